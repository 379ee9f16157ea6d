"""Whether and when a message may go: consent, opt-out, a rule per purpose, and quiet hours (their one owner).

Checked when a message is created and again just before it is sent. Quiet hours are decided here for
every caller: `hold_until` for a message (held until the window opens), `quiet_hours_latest_before` for
anything that must go before a moment (reminders move earlier, never later than the visit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from careline.locations.models import Location
from careline.messaging.models import Channel, Conversation, MessageKind, SuppressionReason
from careline.patients.models import Patient, PatientPhone, PhoneKind, Purpose

if TYPE_CHECKING:
    from careline.messaging.models import MessagingPolicy

ACTIVE_CONVERSATION = timedelta(hours=2)  # staff replies to a patient texting within this are never held
AUTOMATED_KINDS = frozenset({MessageKind.AUTOMATED, MessageKind.ANNOUNCEMENT})
FACTS_CHUNK = 1000  # numbers per consent and landline look-up of a batch


@dataclass(frozen=True)
class PurposeRule:
    """What texts of one purpose need beyond the general rules (consent to texts, no opt-out)."""

    needs_purpose_consent: bool


# Appointment, care and general texts keep the general rules; billing and marketing texts also need the
# consent recorded for that purpose in the ledger (not given until recorded).
PURPOSE_RULES: dict[str, PurposeRule] = {
    Purpose.APPOINTMENTS: PurposeRule(needs_purpose_consent=False),
    Purpose.CARE: PurposeRule(needs_purpose_consent=False),
    Purpose.GENERAL: PurposeRule(needs_purpose_consent=False),
    Purpose.BILLING: PurposeRule(needs_purpose_consent=True),
    Purpose.MARKETING: PurposeRule(needs_purpose_consent=True),
}


def purpose_needs_consent(purpose: str) -> bool:
    """True when texts of PURPOSE need the consent recorded for that purpose (unknown purposes do)."""
    rule = PURPOSE_RULES.get(purpose)
    return rule is None or rule.needs_purpose_consent


# --- consent and opt-out --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuppressionFacts:
    """Landline numbers and consent states of a batch of addresses, looked up together."""

    landlines: frozenset[str]
    consent: dict[str, str]
    # purpose -> the numbers whose consent for that purpose stands (only purposes that need one, when asked)
    purpose_consent: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, addresses: Sequence[str], *, purposes: Iterable[str] = ()) -> SuppressionFacts:
        """The facts for ADDRESSES in two queries per FACTS_CHUNK numbers, plus one per PURPOSE needing consent."""
        from careline.patients.services.registry import consent_purpose_given, consent_states

        numbers = sorted({address for address in addresses if address.startswith("+")})
        if not numbers:
            return cls(frozenset(), {})
        kinds: dict[str, set[str]] = {}
        consent: dict[str, str] = {}
        needing = sorted(purpose for purpose in set(purposes) if purpose_needs_consent(purpose))
        purpose_consent: dict[str, set[str]] = {purpose: set() for purpose in needing}
        # In slices: with thousands of numbers in one IN list PostgreSQL picks the trigram index of the
        # phone numbers over the b-tree, and one look-up for 10,000 numbers took minutes instead of 0.1 s.
        for start in range(0, len(numbers), FACTS_CHUNK):
            part = numbers[start : start + FACTS_CHUNK]
            for number, phone_kind in PatientPhone.objects.filter(number__any_of=part).values_list(
                "number", "kind"
            ):
                kinds.setdefault(number, set()).add(phone_kind)
            consent.update(consent_states(part))
            for purpose in needing:
                purpose_consent[purpose] |= consent_purpose_given(part, purpose)
        landlines = frozenset(number for number, found in kinds.items() if found == {PhoneKind.LANDLINE})
        return cls(
            landlines, consent, {purpose: frozenset(found) for purpose, found in purpose_consent.items()}
        )


def suppression_reason_for(
    *,
    channel: Channel,
    address: str,
    patient: Patient | None,
    kind: str,
    purpose: str = Purpose.GENERAL,
    facts: SuppressionFacts | None = None,
) -> str:
    """Why a message to ADDRESS must not be sent now ('' when it may). Checked at creation and before sending.

    FACTS, when given, holds the landline and consent look-ups of a whole batch (made in two queries).
    """
    if not channel.is_active:
        return SuppressionReason.CHANNEL_DISABLED
    if not address:
        return SuppressionReason.NO_CONTACT
    if patient is not None and patient.is_deceased:
        return SuppressionReason.DECEASED
    if kind == MessageKind.KEYWORD_REPLY:
        return ""  # the law requires the opt-out confirmation itself
    if channel.type.stays_in_careline:
        return ""  # read by the signed-in patient: no phone or mailbox the confidentiality rule protects
    if patient is not None and patient.confidential_communications:
        return SuppressionReason.CONFIDENTIAL
    if "sms" not in channel.type.capabilities:
        return ""
    return _number_reason(address=address, kind=kind, purpose=purpose, facts=facts)


def _number_reason(*, address: str, kind: str, purpose: str, facts: SuppressionFacts | None) -> str:
    """The number's own reasons a text may not go: invalid, landline, opted out, no consent (general or PURPOSE)."""
    from careline.patients.services.registry import (
        CONSENT_GIVEN,
        CONSENT_REVOKED,
        consent_purpose_given,
        consent_state,
    )

    if not address.startswith("+"):
        return SuppressionReason.INVALID_NUMBER
    if facts is not None and address in facts.consent:
        is_landline, state = address in facts.landlines, facts.consent[address]
    else:
        is_landline = PatientPhone.objects.filter(number=address, kind=PhoneKind.LANDLINE).exists() and not (
            PatientPhone.objects.filter(number=address).exclude(kind=PhoneKind.LANDLINE).exists()
        )
        state = "" if is_landline else consent_state(address)
    if is_landline:
        return SuppressionReason.LANDLINE
    if state == CONSENT_REVOKED:
        return SuppressionReason.OPTED_OUT
    if kind in AUTOMATED_KINDS and state != CONSENT_GIVEN:
        return SuppressionReason.NO_CONSENT
    if purpose_needs_consent(purpose):
        if facts is not None and purpose in facts.purpose_consent and address in facts.consent:
            standing = address in facts.purpose_consent[purpose]
        else:
            standing = address in consent_purpose_given([address], purpose)
        if not standing:
            return SuppressionReason.NO_PURPOSE_CONSENT
    return ""


def _texting_order(kind: str, is_primary: bool, pk: int) -> tuple[bool, bool, int]:
    return (kind != PhoneKind.MOBILE, not is_primary, pk)


def patient_sms_number(patient: Patient) -> str | None:
    """The number to text PATIENT at: the primary mobile, else any mobile, else the primary number."""
    phones = sorted(patient.phones.all(), key=lambda p: _texting_order(p.kind, p.is_primary, p.id))
    return phones[0].number if phones else None


def patients_sms_numbers(patient_ids: Sequence[int]) -> dict[int, str]:
    """`patient_sms_number` of each of PATIENT_IDS that has a phone, in one query (no model instances)."""
    best: dict[int, tuple[tuple[bool, bool, int], str]] = {}
    rows = (
        PatientPhone.objects.filter(patient_id__any_of=patient_ids)
        .order_by()
        .values_list("patient_id", "number", "kind", "is_primary", "pk")
    )
    for patient_id, number, kind, is_primary, pk in rows:
        order = _texting_order(kind, is_primary, pk)
        if patient_id not in best or order < best[patient_id][0]:
            best[patient_id] = (order, number)
    return {patient_id: number for patient_id, (_, number) in best.items()}


def patient_text_reason(patient: Patient, *, purpose: str, kind: str = MessageKind.AUTOMATED) -> str:
    """Why texts of KIND and PURPOSE to PATIENT would be suppressed, whichever SMS channel sends them ('' if not).

    The same rules as suppression_reason_for on the number message_send would choose, asked before anything is
    sent (a booking page warns that reminders cannot go by text).
    """
    address = patient_sms_number(patient)
    if not address:
        return SuppressionReason.NO_CONTACT
    if patient.is_deceased:
        return SuppressionReason.DECEASED
    if patient.confidential_communications:
        return SuppressionReason.CONFIDENTIAL
    return _number_reason(address=address, kind=kind, purpose=purpose, facts=None)


# --- quiet hours ----------------------------------------------------------------------------------------


def texting_window(location: Location | None) -> tuple[time, time]:
    """The location's own window when it set one (MessagingPolicy), else CARELINE_TEXTING_WINDOW."""
    policy = getattr(location, "messaging_policy", None) if location is not None else None
    return policy_window(policy)


def policy_window(policy: MessagingPolicy | None) -> tuple[time, time]:
    """The window POLICY sets, or the clinic-wide CARELINE_TEXTING_WINDOW it inherits."""
    if policy is not None and policy.window_start is not None and policy.window_end is not None:
        return policy.window_start, policy.window_end
    window: tuple[time, time] = settings.CARELINE_TEXTING_WINDOW
    return window


def window_release_at(moment: datetime, zone: ZoneInfo, window: tuple[time, time]) -> datetime | None:
    """None when MOMENT is inside the window in ZONE; otherwise the (aware) moment the window next opens.

    Computed on local wall-clock dates and converted back, so it is right across daylight-saving changes.
    """
    start, end = window
    local = moment.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start <= clock < end:
        return None
    day = local.date() if clock < start else local.date() + timedelta(days=1)
    opening = datetime.combine(day, start, tzinfo=zone)
    # A wall-clock time skipped by a spring-forward change resolves to the next valid instant.
    return opening.astimezone(ZoneInfo("UTC"))


def window_last_open_before(moment: datetime, zone: ZoneInfo, window: tuple[time, time]) -> datetime | None:
    """The latest moment at or before MOMENT inside the window (for messages that must go before a time)."""
    start, end = window
    local = moment.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start <= clock < end:
        return moment
    day = local.date() if clock >= end else local.date() - timedelta(days=1)
    last = datetime.combine(day, end, tzinfo=zone) - timedelta(minutes=1)
    return last.astimezone(ZoneInfo("UTC"))


def quiet_hours_latest_before(
    moment: datetime, *, zone: ZoneInfo, window: tuple[time, time]
) -> tuple[datetime, bool] | None:
    """(when, moved earlier) for a text due at MOMENT that must not wait: MOMENT or the last open minute before.

    None when there is no such minute.
    """
    if window_release_at(moment, zone, window) is None:
        return moment, False
    earlier = window_last_open_before(moment, zone, window)
    return None if earlier is None else (earlier, True)


def location_quiet_now(location: Location, now: datetime) -> bool:
    """Whether LOCATION's texting window is closed at NOW (in the location's zone): texts would wait."""
    return window_release_at(now, location.zone, texting_window(location)) is not None


def hold_until(
    *,
    kind: str,
    urgent: bool,
    conversation: Conversation,
    patient: Patient | None,
    now: datetime,
    channel: Channel | None = None,
) -> datetime | None:
    """When quiet hours release this message; None when it may go now (CHANNEL: the conversation's)."""
    if urgent or kind == MessageKind.KEYWORD_REPLY or kind == MessageKind.AUTO_REPLY:
        return None
    if (channel or conversation.channel).type.stays_in_careline:
        return None  # stored for the signed-in patient: nothing rings at night
    if (
        kind == MessageKind.STAFF
        and conversation.last_inbound_at
        and now - conversation.last_inbound_at < ACTIVE_CONVERSATION
    ):
        return None
    location = patient.primary_location if patient else conversation.location
    zone = patient.zone if patient else (location.zone if location else timezone.get_default_timezone())
    return window_release_at(now, zone, texting_window(location))
