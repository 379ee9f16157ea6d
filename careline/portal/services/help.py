"""The help chat: urgent words at any hour, people during opening hours, the FAQ assistant outside them.

Every message a patient writes in the help chat is stored in their portal conversation on the "help" topic
(so staff see it in the inbox). Then, in this order:

1. Urgent words (any language's, accent- and case-insensitive, whole words) show emergency guidance at once
   (call 911; call or text 988) and flag the conversation urgent, at any hour. While the patient's location
   is closed they are announced as messaging's `UrgentTextAfterHours`, exactly like an urgent text: the
   on-call line pages its clinician, and the answer says so when someone is on call.
2. During the opening hours of the patient's location the message is for staff: tagged and flagged "help".
3. Outside them the assistant answers with the closest FAQ answers in the patient's language (rapidfuzz)
   and says when staff will reply (the location's next opening).

Messaging's conversation services flag, tag and note; this module never writes messaging's rows itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import pgettext_lazy
from rapidfuzz import fuzz

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.events import publish
from careline.core.languages import say, text_language
from careline.locations.queries import location_next_opening
from careline.messaging.after_hours import closed_period_start
from careline.messaging.channels.portal.conversations import (
    HELP_TOPIC,
    portal_automatic_answer,
    portal_conversation,
    portal_patient_message,
)
from careline.messaging.events import UrgentTextAfterHours
from careline.messaging.models import Conversation, Message
from careline.messaging.services.attachments import media_delete, patient_upload_store, patient_upload_type
from careline.messaging.services.conversations import (
    conversation_flag,
    conversation_tag_automatic,
    internal_note_add_automatic,
)
from careline.messaging.urgent import text_fold, urgent_responder_for
from careline.messaging.urgent import urgent_phrase_in as messaging_urgent_phrase_in
from careline.patients.models import Patient
from careline.portal.models import FaqEntry, UrgentPhrase
from careline.scheduling.texts import human_date, human_time

FAQ_LIMIT = 3
FAQ_SCORE_THRESHOLD = 60.0  # rapidfuzz's 0-100 score below which an answer is not offered
MAX_ATTACHMENTS = 3
URGENT_TAG = "urgent"
HELP_TAG = "help"

EMERGENCY_GUIDANCE = pgettext_lazy(
    "portal help chat",
    "If this is an emergency, call 911 now. If you are thinking about suicide or are in crisis, call or "
    "text 988 (Suicide & Crisis Lifeline), at any hour. Your message was also sent to the care team.",
)
ON_CALL_TOLD = pgettext_lazy(
    "portal help chat", "{location} is closed now. We have told the clinician on call about your message."
)
SENT_TO_STAFF = pgettext_lazy(
    "portal help chat",
    "Your message was sent to the care team at {location}. They will answer here.",
)
STAFF_REPLY_AT = pgettext_lazy(
    "portal help chat",
    "{location} is closed now. The care team will reply when it opens: {day} at {time}.",
)
STAFF_REPLY_LATER = pgettext_lazy(
    "portal help chat", "{location} is closed now. The care team will reply when it opens."
)
FAQ_INTRO = pgettext_lazy("portal help chat", "These answers may help:")
NO_FAQ = pgettext_lazy("portal help chat", "We did not find an answer to that in our frequent questions.")


class HelpOutcome:
    URGENT = "urgent"
    STAFF = "staff"
    ASSISTANT = "assistant"


@dataclass
class HelpAnswer:
    """What the help chat shows after the patient's message."""

    outcome: str
    conversation: Conversation
    message: Message
    answer: Message
    faq: list[FaqEntry] = field(default_factory=list)
    next_opening: datetime | None = None
    note: str = ""  # what the chat says besides the FAQ answers (sent to staff; when staff will reply)
    on_call_told: bool = False  # urgent words after hours: the clinician on call was paged

    @property
    def urgent(self) -> bool:
        return self.outcome == HelpOutcome.URGENT


def urgent_phrases_stored() -> list[str]:
    """The urgent phrases administrators keep (every language): the list messaging's matcher reads."""
    return list(UrgentPhrase.objects.values_list("phrase", flat=True))


def urgent_phrase_in(text: str, phrases: Sequence[str] | None = None) -> str:
    """The first urgent phrase TEXT contains as whole words (any language's), or ""."""
    return messaging_urgent_phrase_in(text, urgent_phrases_stored() if phrases is None else phrases)


def faq_matches(text: str, *, language: str, limit: int = FAQ_LIMIT) -> list[FaqEntry]:
    """The active FAQ entries in LANGUAGE closest to TEXT (at most LIMIT, best first, above the threshold).

    An entry scores its best of the question (rapidfuzz WRatio) and each keyword (token set ratio: a keyword
    whose words are all in the text scores 100).
    """
    query = text_fold(text)
    if not query:
        return []
    scored: list[tuple[float, int, FaqEntry]] = []
    for entry in FaqEntry.objects.filter(language=text_language(language), is_active=True):
        scores = [fuzz.WRatio(query, text_fold(entry.question))]
        scores += [fuzz.token_set_ratio(query, text_fold(word)) for word in entry.keyword_list]
        best = max(scores)
        if best >= FAQ_SCORE_THRESHOLD:
            scored.append((best, -entry.order, entry))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [entry for _, _, entry in scored[:limit]]


def help_attachments_check(attachments: Sequence[UploadedFile]) -> None:
    """ValidationError unless ATTACHMENTS are at most MAX_ATTACHMENTS PDF, JPEG or PNG files (by content)."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationError(f"Attach at most {MAX_ATTACHMENTS} files.")
    for upload in attachments:
        patient_upload_type(upload)


def attachments_store(
    conversation: Conversation, attachments: Sequence[UploadedFile]
) -> list[dict[str, str]]:
    """Check and store ATTACHMENTS for CONVERSATION; their Message.media entries (nothing kept on a refusal)."""
    help_attachments_check(attachments)
    return [patient_upload_store(conversation_id=conversation.pk, upload=upload) for upload in attachments]


def attachments_discard(media: Sequence[dict[str, str]]) -> None:
    """Remove stored files of a message that was refused."""
    for item in media:
        media_delete(item["file"])


@dataclass(frozen=True)
class UrgentAnswer:
    """The emergency guidance shown to the patient, and whether the clinician on call was told."""

    guidance: Message
    on_call_told: bool


def urgent_after_hours_page(*, conversation: Conversation, message: Message, phrase: str) -> bool:
    """While the location of CONVERSATION is closed, announce MESSAGE's urgent words as messaging does for a
    text (`UrgentTextAfterHours`: the on-call line pages its clinician in this transaction); whether someone
    on call was told (never claimed when nobody is on call, nor while the clinic is open)."""
    patient = conversation.patient
    location = conversation.location or (patient.primary_location if patient else None)
    if location is None or closed_period_start(location, timezone.now()) is None:
        return False
    publish(
        UrgentTextAfterHours(
            conversation_id=conversation.pk, message_id=message.pk, location_id=location.pk, phrase=phrase
        )
    )
    return urgent_responder_for(location.pk) is not None


def urgent_handle(*, conversation: Conversation, message: Message, phrase: str) -> UrgentAnswer:
    """Flag CONVERSATION urgent for staff, page the clinician on call after hours and show the patient
    emergency guidance (saying the clinician on call was told, when one was)."""
    conversation_flag(conversation=conversation, reason="urgent words in a portal message")
    conversation_tag_automatic(conversation=conversation, name=URGENT_TAG)
    told = urgent_after_hours_page(conversation=conversation, message=message, phrase=phrase)
    internal_note_add_automatic(
        conversation=conversation,
        text=f"The patient's portal message contains urgent words (“{phrase}”). Emergency guidance "
        "(call 911; call or text 988) was shown to them at once."
        + (" The clinician on call was paged." if told else ""),
    )
    patient = conversation.patient
    language = patient.language if patient else "en"
    body = say(EMERGENCY_GUIDANCE, language)
    if told and patient is not None:
        location = conversation.location or patient.primary_location
        body = f"{say(ON_CALL_TOLD, language, location=location.name)} {body}"
    guidance = portal_automatic_answer(conversation=conversation, body=body)
    return UrgentAnswer(guidance=guidance, on_call_told=told)


def staff_reply_when(patient: Patient, moment: datetime) -> tuple[str, datetime | None]:
    """The sentence saying when staff will reply (the location's next opening), and that opening."""
    location = patient.primary_location
    language = text_language(patient.language)
    opening = location_next_opening(location, moment)
    if opening is None:
        return say(STAFF_REPLY_LATER, language, location=location.name), None
    return (
        say(
            STAFF_REPLY_AT,
            language,
            location=location.name,
            day=human_date(opening, language),
            time=human_time(opening, language),
        ),
        opening,
    )


def help_message_receive(
    *, actor: Actor, patient: Patient, text: str, attachments: Sequence[UploadedFile] = ()
) -> HelpAnswer:
    """Take the patient's help-chat message and answer it (see the module's docstring for the order).

    ValidationError for files that are not PDF, JPEG or PNG (by content) or too large; MessageRefused
    (a ValueError) for an empty or too long text. Nothing is stored then.
    """
    conversation = portal_conversation(patient=patient, topic=HELP_TOPIC)
    media = attachments_store(conversation, attachments)
    try:
        message = portal_patient_message(conversation=conversation, body=text, media=media)
    except ValueError:
        attachments_discard(media)
        raise
    audit_record(
        action=AuditAction.CREATE,
        actor=actor,
        obj=message,
        patient_id=patient.pk,
        detail="help chat message written in the portal" + (f" with {len(media)} file(s)" if media else ""),
    )
    language = text_language(patient.language)
    phrase = urgent_phrase_in(text)
    if phrase:
        urgent = urgent_handle(conversation=conversation, message=message, phrase=phrase)
        return HelpAnswer(
            HelpOutcome.URGENT, conversation, message, urgent.guidance, on_call_told=urgent.on_call_told
        )
    location = patient.primary_location
    now = timezone.now()
    conversation_tag_automatic(conversation=conversation, name=HELP_TAG)
    # A location with no opening hours set is never "closed" (as for the after-hours text): staff answer.
    if location.is_open_at(now) or not location.opening_hours.exists():
        conversation_flag(conversation=conversation, reason="help chat: the patient asked for help")
        body = say(SENT_TO_STAFF, language, location=location.name)
        answer = portal_automatic_answer(conversation=conversation, body=body)
        return HelpAnswer(HelpOutcome.STAFF, conversation, message, answer, note=body)
    entries = faq_matches(text, language=language)
    when, opening = staff_reply_when(patient, now)
    note = when if entries else f"{say(NO_FAQ, language)} {when}"
    parts = [say(FAQ_INTRO, language)] if entries else []
    parts += [f"{entry.question}\n{entry.answer}" for entry in entries]
    parts.append(note)
    answer = portal_automatic_answer(conversation=conversation, body="\n\n".join(parts))
    return HelpAnswer(
        HelpOutcome.ASSISTANT, conversation, message, answer, faq=entries, next_opening=opening, note=note
    )
