"""Bearer-token authentication for /api/v1: the token acts as its staff user, with that user's permissions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from careline.accounts.models import ApiToken, User, hash_token
from careline.core.models import AuditChannel

# Writing last_used_at on every call would turn each read into a write; once a minute is enough to see use.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Tokens are ~46 characters; anything far longer is not one of ours and is not worth hashing.
MAX_TOKEN_LENGTH = 256


def api_token_for_secret(secret: str) -> ApiToken | None:
    """The active token whose hash matches SECRET, with its user, or None."""
    if not secret or len(secret) > MAX_TOKEN_LENGTH:
        return None
    try:
        digest = hash_token(secret)
    except UnicodeError:
        return None
    return ApiToken.objects.active().select_related("user").filter(token_hash=digest).first()


def api_token_touch(*, token: ApiToken) -> None:
    """Record that TOKEN was used now, at most once per LAST_USED_RESOLUTION."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`: the request then acts as the token's user, audited on the API channel."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        """The token's staff user, or None (401) for a missing, unknown, revoked or deactivated token."""
        api_token = api_token_for_secret(token.strip())
        if api_token is None:
            return None
        user = api_token.user
        if user.is_admin and not user.has_confirmed_totp:
            # An administrator's token is worth no less protection than their sign-in, which needs MFA.
            return None
        api_token_touch(token=api_token)
        # The same Perm checks and patients_visible_to(user) scoping as the staff pages apply.
        request.user = user
        marked: Any = request
        marked.audit_channel = AuditChannel.API
        marked.api_token = api_token
        return user
