"""The signed link an emailed survey is answered through (email has no replies to route): it names the
survey only, expires with the survey, and carries no patient data."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "careline.surveys.answer"
MAX_AGE_SECONDS = 3 * 24 * 3600


def answer_link(pk: int) -> str:
    """The absolute link to answer survey PK."""
    token = signing.TimestampSigner(salt=SALT).sign(str(pk))
    base = str(getattr(settings, "PUBLIC_BASE_URL", "")).rstrip("/")
    return f"{base}{reverse('surveys:answer')}?t={token}"


def answer_token_survey(token: str) -> int | None:
    """The survey id TOKEN names, or None when it is forged, malformed or expired."""
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(token or "", max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None
