"""What surveys say to patients (English msgids, Spanish in the catalogue). No clinical detail, ever."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

ASK_CSAT = pgettext_lazy(
    "survey question",
    "Hi {first_name}, how was your visit to {clinic_name}? Please reply with a number from 1 (poor) to 5 "
    "(excellent).",
)
ASK_NPS = pgettext_lazy(
    "survey question",
    "Hi {first_name}, how likely are you to recommend {clinic_name} to a friend? Please reply with a number "
    "from 0 (not at all) to 10 (very likely).",
)
ASK_SUBJECT = pgettext_lazy("survey email subject", "How was your visit?")
FOLLOW_UP = pgettext_lazy(
    "survey follow-up question",
    "Thank you! What is the main reason for your score? Reply in a few words, or skip this question.",
)
THANKS = pgettext_lazy("survey thanks", "Thank you for your answer. It helps us care for you better.")
THANKS_LOW = pgettext_lazy(
    "survey thanks after a low score",
    "Thank you for telling us. We are sorry your visit was not better; a manager will read your answer.",
)
REVIEW_INVITE = pgettext_lazy(
    "survey review invitation",
    "Thank you, {first_name}! If you have a minute, would you share your experience in a public review? {link}",
)
