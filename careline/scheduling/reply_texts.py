"""What scheduling answers to patients' text replies and waitlist offers say (English msgids; other
languages in careline/locale). Each is filled with `careline.core.languages.say(text, language, **values)`.

Values are facts the patient already has: their first name, the visit's time and place, the clinic's phone.
"""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

# How a visit's time reads in an answer: '{date} at {time}' -> 'Thu, Dec 3 at 8:30 AM'.
VISIT_WHEN = pgettext_lazy("visit time in a text", "{date} at {time}")

# --- replies to reminders (careline.scheduling.services.replies) -------------------------------------
CONFIRMED = pgettext_lazy(
    "reply answer", "Thank you, {first_name}. Your visit on {when} at {place} is confirmed."
)
CANCEL_ASK = pgettext_lazy(
    "reply answer", "Reply {cancel_word} again to cancel your visit on {when} at {place}."
)
CANCELLED = pgettext_lazy(
    "reply answer", "Your visit on {when} at {place} is cancelled. To book again call {phone}."
)
# The slot choices: PICK is the numbers ('1, 2 or 3'), CHOICES the numbered times.
CHOICES = pgettext_lazy("reply answer", "Reply {pick} to move your visit at {place}: {choices}")
PICK_LAST = pgettext_lazy("reply answer: numbers to pick from", "{numbers} or {last}")
CHOICES_EXPIRED = pgettext_lazy(
    "reply answer: before new choices", "Those times are no longer held. New choices:"
)
CHOICE_TAKEN = pgettext_lazy("reply answer: before new choices", "That time was just taken. New choices:")
NOTHING_THEN = pgettext_lazy("reply answer: before new choices", "Nothing is free then. Other times:")
NO_SLOTS = pgettext_lazy(
    "reply answer",
    "We could not find another free time by text. We will call you to reschedule, or call us at {phone}.",
)
MOVED = pgettext_lazy("reply answer", "Done: your visit is now on {when} at {place}, {address}.")

# --- waitlist (careline.scheduling.services.waitlist) ------------------------------------------------
WAITLIST_OFFER = pgettext_lazy(
    "waitlist answer",
    "Hi {first_name}, an earlier visit opened at {place}: {when}. Reply {word} to book it. "
    "The first to reply gets it; this offer ends in {minutes} min.",
)
WAITLIST_OFFER_GONE = pgettext_lazy(
    "waitlist answer", "Sorry, that offer is no longer available. You are still on the waitlist."
)
WAITLIST_TAKEN = pgettext_lazy(
    "waitlist answer",
    "Sorry, that time has been taken. You are still on the waitlist and we will text you the next one.",
)
WAITLIST_BOOKED = pgettext_lazy("waitlist answer", "Booked: your visit is on {when} at {place}, {address}.")
# Added after WAITLIST_BOOKED when taking the earlier slot released the patient's later visit.
WAITLIST_RELEASED = pgettext_lazy("waitlist answer", "Your visit on {when} is cancelled.")

REPLY_TEXTS = (
    VISIT_WHEN,
    CONFIRMED,
    CANCEL_ASK,
    CANCELLED,
    CHOICES,
    PICK_LAST,
    CHOICES_EXPIRED,
    CHOICE_TAKEN,
    NOTHING_THEN,
    NO_SLOTS,
    MOVED,
    WAITLIST_OFFER,
    WAITLIST_OFFER_GONE,
    WAITLIST_TAKEN,
    WAITLIST_BOOKED,
    WAITLIST_RELEASED,
)

# --- visit requests (careline.scheduling.services.visit_requests) ------------------------------------
# REASON is one of DeclineReason's fixed sentences: never staff's own words, so nothing clinical.
VISIT_REQUEST_DECLINED = pgettext_lazy(
    "visit request answer",
    "Hi {first_name}, we could not book the visit you asked for at {place}. {reason} Please call us at {phone}.",
)
VISIT_REQUEST_DECLINED_SUBJECT = pgettext_lazy("email subject", "Your visit request")
