"""Pay links: a signed link to one statement, valid for settings.CARELINE_PAY_LINK_DAYS (30) days.

The link names the statement and the patient record that pays it and nothing else; the page it opens asks for
the payer's date of birth before it shows anything (`/pay/<token>/`, built by the statements' pay page). A
fresh link for the same statement is simply a new token: the old one keeps working until it expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing

from careline.billing.models import Statement

PAY_LINK_SALT = "careline.billing.paylink"
# The path under which the pay page is mounted (careline/urls.py); the link is PUBLIC_BASE_URL + this + token.
PAY_PATH_PREFIX = "/pay/"


class PayLinkInvalid(Exception):
    """The token was not made by Careline, was changed, or has expired (EXPIRED says which)."""

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass(frozen=True)
class PayLinkTarget:
    statement_id: int
    payer_id: int


def pay_link_max_age() -> timedelta:
    return timedelta(days=int(settings.CARELINE_PAY_LINK_DAYS))


def pay_link_token(statement: Statement) -> str:
    """A new signed token for STATEMENT (timestamped now)."""
    return signing.dumps({"s": statement.pk, "p": statement.payer_id}, salt=PAY_LINK_SALT, compress=True)


def pay_link_verify(token: str) -> PayLinkTarget:
    """What TOKEN points at; PayLinkInvalid when forged, changed or older than the pay links' lifetime."""
    try:
        data = signing.loads(token, salt=PAY_LINK_SALT, max_age=pay_link_max_age())
    except signing.SignatureExpired:
        raise PayLinkInvalid(expired=True) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise PayLinkInvalid() from None
    if not isinstance(data, dict):
        raise PayLinkInvalid()
    statement_id, payer_id = data.get("s"), data.get("p")
    if not isinstance(statement_id, int) or not isinstance(payer_id, int):
        raise PayLinkInvalid()
    return PayLinkTarget(statement_id=statement_id, payer_id=payer_id)


def pay_link_target_any_age(token: str) -> PayLinkTarget | None:
    """What an authentic TOKEN points at however old it is (to send a fresh link for an expired one); None
    when it was not made by Careline or was changed."""
    try:
        data = signing.loads(token, salt=PAY_LINK_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    statement_id, payer_id = data.get("s"), data.get("p")
    if not isinstance(statement_id, int) or not isinstance(payer_id, int):
        return None
    return PayLinkTarget(statement_id=statement_id, payer_id=payer_id)


def pay_link_path(statement: Statement) -> str:
    return f"{PAY_PATH_PREFIX}{pay_link_token(statement)}/"


def pay_link_url(statement: Statement) -> str:
    """The absolute pay link for STATEMENT, for a text, an email or a printed statement."""
    return f"{settings.PUBLIC_BASE_URL}{pay_link_path(statement)}"
