"""What referral texts say to patients (English msgids, Spanish in the catalogue), and how they are rendered.

A text names the provider and how to reach them, never the reason for the referral or a diagnosis. Referral
values (the provider's name and contact details, typed by staff) are filled with `say`, braces escaped; then
the allow-listed patient and clinic fields with the one safe renderer, `template_render`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import pgettext_lazy

from careline.core.languages import say

NOTICE = pgettext_lazy(
    "referral notice",
    "Hi {first_name}, {clinic_name} has referred you to {provider}. Please contact them to book:",
)
NOTICE_SUBJECT = pgettext_lazy("referral notice email subject", "Your referral from {clinic_name}")
CONTACT_PHONE = pgettext_lazy("referral contact", "Phone {phone}.")
CONTACT_TEXTS = pgettext_lazy("referral contact", "They also take texts at that number.")
CONTACT_EMAIL = pgettext_lazy("referral contact", "Email {email}.")
CONTACT_ADDRESS = pgettext_lazy("referral contact", "Address: {address}.")
CONTACT_WEBSITE = pgettext_lazy("referral contact", "Website: {website}")
# Mental-health referrals carry the crisis line in every text about them.
CRISIS_LINE = pgettext_lazy(
    "referral crisis line", "If you are in crisis or thinking about suicide, call or text 988, any time."
)
CHECKIN = pgettext_lazy(
    "referral check-in",
    "Hi {first_name}, were you able to book with {provider}? Reply 1 yes, 2 not yet, 3 need help.",
)
ANSWER_BOOKED = pgettext_lazy(
    "referral check-in answer", "Thank you, we noted that you booked with {provider}."
)
ANSWER_NOT_YET = pgettext_lazy(
    "referral check-in answer", "Thanks. We will check in again in {days} days. {provider}: {phone}"
)
ANSWER_NOT_YET_NO_PHONE = pgettext_lazy(
    "referral check-in answer", "Thanks. We will check in again in {days} days."
)
ANSWER_HELP = pgettext_lazy(
    "referral check-in answer", "Thanks, someone from {clinic_name} will contact you to help you book."
)
UNREADABLE = pgettext_lazy("referral check-in answer", "Sorry, please reply 1 yes, 2 not yet or 3 need help.")


def _escaped(value: object) -> str:
    return str(value).replace("{", "{{").replace("}", "}}")


def referral_text(text: Any, language: str, fields: Mapping[str, str], **values: object) -> str:
    """TEXT in LANGUAGE: referral VALUES filled in, then the allow-listed FIELDS by the safe renderer."""
    from careline.messaging.templating import ALLOWED_FIELDS, TemplateKind, template_render

    placeholders = {name: "{" + name + "}" for name in ALLOWED_FIELDS}
    said = say(text, language, **placeholders, **{k: _escaped(v) for k, v in values.items()})
    return template_render(said, fields, kind=TemplateKind.ANNOUNCEMENT)
