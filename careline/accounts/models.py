"""Staff users, their roles and locations, and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone

from careline.core.permissions import Role, permissions_for_roles


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        roles = extra.pop("roles", ())
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        for role in roles:
            StaffRole.objects.create(user=user, role=role)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("roles", [Role.ADMIN])
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username or "")


class TimeFormat(models.TextChoices):
    """How a member of staff reads times on Careline's pages (the `clock`/`when` template filters)."""

    H24 = "24h", "24-hour (14:30)"
    H12 = "12h", "12-hour (2:30 PM)"


class User(AbstractBaseUser):
    """A member of staff. Signs in by email; may hold several roles and belong to several locations."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    title = models.CharField(max_length=60, blank=True, help_text="e.g. RN, MD, Front desk lead")
    # E.164 (parsed with phonenumbers at the edge): where Careline texts this person (on-call pages), never
    # shown to patients.
    mobile = models.CharField(
        max_length=20, blank=True, default="", help_text="For on-call pages by text (E.164)"
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    locations = models.ManyToManyField("locations.Location", related_name="staff", blank=True)
    time_format = models.CharField(
        max_length=3,
        choices=TimeFormat.choices,
        default=TimeFormat.H24,
        help_text="How times are shown to this person on Careline's pages",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email

    @cached_property
    def role_codes(self) -> frozenset[str]:
        return frozenset(self.role_rows.values_list("role", flat=True))

    @cached_property
    def location_ids(self) -> frozenset[int]:
        return frozenset(self.locations.values_list("id", flat=True))

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_for_roles(self.role_codes)

    def has_role(self, role: str) -> bool:
        return role in self.role_codes

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.role_codes

    @property
    def is_clinician(self) -> bool:
        return Role.CLINICIAN in self.role_codes

    @property
    def requires_mfa(self) -> bool:
        """Administrators always; everyone when CARELINE_MFA_REQUIRED_FOR_ALL_STAFF is on."""
        return self.is_admin or settings.CARELINE_MFA_REQUIRED_FOR_ALL_STAFF

    @property
    def has_confirmed_totp(self) -> bool:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        return TOTPDevice.objects.filter(user=self, confirmed=True).exists()

    def is_verified(self) -> bool:  # replaced per request by django_otp's middleware
        return False

    def role_labels(self) -> list[str]:
        return [Role(code).label for code in sorted(self.role_codes)]


class StaffRole(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_rows")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="staff_role_unique")]

    def __str__(self) -> str:
        return f"{self.user} as {self.get_role_display()}"


def hash_token(token: str) -> str:
    """SHA-256 of an API token: tokens are long and random, so a fast hash is safe and lookups are indexed."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        """Not revoked, not expired, and owned by an active account."""
        unexpired = models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=timezone.now())
        return self.filter(unexpired, revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A bearer token for /api/v1 acting as USER. Only the hash is kept; the token is shown once."""

    TOKEN_PREFIX = "cl_"  # noqa: S105 - a public marker, not a secret

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'EHR sync'")
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise the token")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Blank: until revoked")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def new_secret(cls) -> str:
        return cls.TOKEN_PREFIX + secrets.token_urlsafe(32)

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired
