"""Outreach's patient texts: English msgids, Spanish in careline/locale/es (no clinical detail in any)."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

# Filled by the safe renderer (messaging.templating): {first_name} and the location's fields only.
BIRTHDAY_GREETING = pgettext_lazy(
    "outreach birthday", "Happy birthday, {first_name}! Warm wishes from all of us at {clinic_name}."
)
RECALL_BODY = pgettext_lazy(
    "outreach recall", "Hi {first_name}, it is time to book your next visit with {clinic_name}."
)
# Appended to every recall text in the patient's language (filled by `say`).
RECALL_OFFER_LINK = pgettext_lazy("outreach recall", "Request a visit online: {link}")
RECALL_OFFER_CALLBACK = pgettext_lazy(
    "outreach recall", "Reply {word} and we will call you to book, or call us at {phone}."
)
RECALL_OFFER_CALLBACK_NO_PHONE = pgettext_lazy(
    "outreach recall", "Reply {word} and we will call you to book."
)
CALLBACK_ANSWER = pgettext_lazy(
    "outreach recall", "Thank you. Someone from {clinic_name} will call you to book your visit."
)
