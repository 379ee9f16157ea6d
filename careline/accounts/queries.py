"""Reads about staff shared by the administration pages and the API."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.accounts.models import ApiToken, User


def staff_with_details() -> QuerySet[User]:
    """Every staff account with roles, locations and `has_mfa` loaded in a fixed number of queries."""
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return (
        User.objects.annotate(has_mfa=Exists(confirmed))
        .prefetch_related("role_rows", "locations")
        .order_by("-is_active", "full_name", "email")
    )


def staff_role_codes(user: User) -> list[str]:
    """Role codes of USER from its prefetched rows (no query when prefetched)."""
    return sorted(row.role for row in user.role_rows.all())


def api_tokens_with_owners() -> QuerySet[ApiToken]:
    """Every API token, newest first, with owner and creator loaded."""
    return ApiToken.objects.select_related("user", "created_by", "revoked_by").order_by("-created_at", "-id")


def active_staff() -> QuerySet[User]:
    """Active staff, for choosing a token owner."""
    return User.objects.filter(is_active=True).order_by("full_name", "email")


def api_token_names(ids: set[int]) -> dict[int, str]:
    """{token id: its name} for the audit trail page."""
    return dict(ApiToken.objects.filter(pk__in=ids).values_list("pk", "name"))


def staff_names(ids: set[int]) -> dict[int, str]:
    """{user id: full name} for the audit trail page."""
    return dict(User.objects.filter(pk__in=ids).values_list("pk", "full_name"))
