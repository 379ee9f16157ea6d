"""The signed links of education: the texted one names a send, the item page's names an item; no patient data.

Both are `django.core.signing` values under salts of their own, so a send's link cannot be turned into
another send's, and an item page's link cannot be used to count an open.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SEND_SALT = "careline.education.send"
ITEM_SALT = "careline.education.item"


def send_token(send_id: int) -> str:
    """The token of a send's texted link (its id, signed)."""
    return signing.dumps(send_id, salt=SEND_SALT, compress=False)


def send_id_of(token: str) -> int | None:
    """The send a token names, or None when it was tampered with or is not one."""
    try:
        value = signing.loads(token, salt=SEND_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def item_token(item_id: int) -> str:
    """The token of an item's public page (its id, signed)."""
    return signing.dumps(item_id, salt=ITEM_SALT, compress=False)


def item_id_of(token: str) -> int | None:
    """The item a token names, or None when it was tampered with or is not one."""
    try:
        value = signing.loads(token, salt=ITEM_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def send_link(send_id: int) -> str:
    """The full link texted to the recipient."""
    return settings.PUBLIC_BASE_URL + reverse("education_public:open", args=[send_token(send_id)])
