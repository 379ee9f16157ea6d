"""The demo clinic's messaging: saved replies, tags, policies, and simulator conversations in every state.

Rows are written directly with realistic timestamps (the dispatcher never runs during seeding), so the
inbox shows unread, assigned, closed, opted-out, failed, suppressed, scheduled, flagged and family-phone
conversations the moment `make run` starts. Loading twice adds nothing.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from careline.locations.models import Location
from careline.messaging.auto_answers import keyword_answer
from careline.messaging.conversation_facts import conversation_facts_refresh
from careline.messaging.models import (
    Channel,
    Conversation,
    ConversationEvent,
    InternalNote,
    Message,
    MessageKind,
    MessageState,
    MessagingPolicy,
    SavedReply,
    SuppressionReason,
    Tag,
)
from careline.messaging.segments import segment_info
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.inbound import patient_preview
from careline.patients.models import (
    ConsentEvent,
    ConsentKind,
    ConsentMethod,
    Patient,
    PatientPhone,
    PatientStatus,
    PhoneKind,
)

UNDELIVERABLE_NUMBER_SUFFIX = "0000"  # the simulator reports these numbers undelivered
SAVED_REPLIES = (
    (
        "Running late",
        "Hi {first_name}, thanks for letting us know. We will hold your spot for 15 minutes. {location_name}",
    ),
    ("Call us", "Hi {first_name}, please call us at {location_phone} so we can help. {location_name}"),
    ("Directions", "{location_name} is at {location_address}. Parking is free behind the building."),
    (
        "Refill received",
        "Hi {first_name}, we have your refill request and will call your pharmacy within 2 business days.",
    ),
    ("Portal link", "Hi {first_name}, you can see this in your patient portal: {link}"),
)
TAGS = ("billing question", "refill", "scheduling", "follow-up")


@dataclass
class _Seed:
    rng: random.Random
    now: datetime
    channel: Channel
    counts: Counter[str]

    def provider_id(self) -> str:
        return f"SIMDEMO{self.rng.getrandbits(64):016x}"


def messaging_demo_populate(*, locations: list[Location], staff: Any, seed: int) -> dict[str, int]:
    """Create the demo's messaging rows once; returns what was created (nothing when already there)."""
    channel = simulator_channel()
    if Conversation.objects.filter(channel=channel).exists():
        return {}
    ctx = _Seed(rng=random.Random(seed + 3), now=timezone.now(), channel=channel, counts=Counter())
    for title, body in SAVED_REPLIES:
        SavedReply.objects.get_or_create(title=title, defaults={"body": body, "created_by": staff.admin})
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    for location in locations:
        MessagingPolicy.objects.get_or_create(location=location)
    front = staff.front_desk
    people = _candidates(locations)
    first, second = locations[0], locations[-1]

    if sum(len(pool) for pool in people.values()) < 8:
        return dict(ctx.counts)  # a registry too small for every kind of conversation

    def take(location: Location) -> Patient:
        pool = people[location.pk] or max(people.values(), key=len)
        return pool.pop(ctx.rng.randrange(len(pool)))

    # Unread: a question waiting for an answer.
    patient = take(first)
    convo = _conversation(ctx, patient, unread=2)
    _inbound(ctx, convo, "Hi, can I move my appointment on Thursday to the afternoon?", hours_ago=3)
    _inbound(ctx, convo, "Any time after 2 works for me", hours_ago=2.9)
    convo.tags.add(tags["scheduling"])

    # Assigned, with a staff answer delivered and an internal note.
    patient = take(first)
    convo = _conversation(ctx, patient, assigned=front[first.name])
    _inbound(ctx, convo, "Is my refill ready? I'm almost out of my inhaler.", hours_ago=26)
    _outbound(
        ctx,
        convo,
        f"Hi {patient.first_name}, we sent it to your pharmacy this morning. It should be ready after 4 pm.",
        hours_ago=25,
        author=front[first.name],
    )
    _event(
        ctx,
        convo,
        ConversationEvent.Kind.ASSIGNED,
        hours_ago=25.5,
        actor=staff.admin,
        detail=f"to {front[first.name].full_name}",
    )
    InternalNote.objects.create(
        conversation=convo, author=front[first.name], text="Called the pharmacy, confirmed."
    )
    convo.tags.add(tags["refill"])

    # Closed after a short exchange.
    patient = take(second)
    convo = _conversation(ctx, patient, status=Conversation.Status.CLOSED)
    _outbound(
        ctx,
        convo,
        f"Hi {patient.first_name}, your lab forms are ready to pick up at the front desk.",
        hours_ago=74,
        author=front[second.name],
    )
    _inbound(ctx, convo, "Thank you! I'll come by tomorrow.", hours_ago=73)
    _event(ctx, convo, ConversationEvent.Kind.CLOSED, hours_ago=72, actor=front[second.name])

    # Opted out: STOP, the ledger entry, and the one confirmation.
    patient = take(second)
    convo = _conversation(ctx, patient)
    _inbound(ctx, convo, "STOP", hours_ago=50)
    ConsentEvent.objects.create(
        phone_number=convo.contact,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.KEYWORD,
        patient=patient,
        occurred_at=ctx.now - timedelta(hours=50),
        note="replied STOP",
    )
    _event(ctx, convo, ConversationEvent.Kind.OPTED_OUT, hours_ago=50, detail="replied STOP")
    _outbound(
        ctx,
        convo,
        keyword_answer("opt_out", location=second, language=patient.language),
        hours_ago=49.99,
        kind=MessageKind.KEYWORD_REPLY,
    )

    # A failed delivery: an old number the simulator cannot reach.
    patient = take(first)
    dead_number = f"+1{patient.phones.all()[0].number[2:5]}555{UNDELIVERABLE_NUMBER_SUFFIX}"
    PatientPhone.objects.get_or_create(
        patient=patient, number=dead_number, defaults={"kind": PhoneKind.MOBILE, "label": "old mobile"}
    )
    convo = _conversation(ctx, patient, contact=dead_number)
    _outbound(
        ctx,
        convo,
        f"Hi {patient.first_name}, please call {first.name} about your visit next week.",
        hours_ago=8,
        author=front[first.name],
        state=MessageState.UNDELIVERED,
        error=("30003", "Unreachable destination handset (simulated)"),
    )

    # Suppressed: an automated text to a number with no consent on file.
    patient = _without_consent(locations) or take(first)
    convo = _conversation(ctx, patient)
    _outbound(
        ctx,
        convo,
        f"Hi {patient.first_name}, flu shots are available at {patient.primary_location.name}.",
        hours_ago=30,
        kind=MessageKind.AUTOMATED,
        state=MessageState.SUPPRESSED,
        reason=SuppressionReason.NO_CONSENT,
    )

    # Scheduled: a staff message set to go tomorrow morning.
    patient = take(second)
    convo = _conversation(ctx, patient)
    zone = second.zone
    tomorrow = (ctx.now.astimezone(zone) + timedelta(days=1)).date()
    _outbound(
        ctx,
        convo,
        f"Good morning {patient.first_name}, a reminder to bring your insurance card today.",
        hours_ago=1,
        author=front[second.name],
        state=MessageState.QUEUED,
        due_at=datetime.combine(tomorrow, time(9, 30), tzinfo=zone),
    )

    # A free-text opt-out, flagged to staff with a one-click opt-out.
    patient = take(first)
    convo = _conversation(ctx, patient, unread=1, opt_out_suspected=True)
    _outbound(
        ctx,
        convo,
        f"Hi {patient.first_name}, it's time to book your yearly checkup. Call {first.name} to book.",
        hours_ago=6,
        kind=MessageKind.AUTOMATED,
    )
    _inbound(ctx, convo, "Please stop texting me, I will call when I need something", hours_ago=5)
    _event(ctx, convo, ConversationEvent.Kind.FLAGGED, hours_ago=5, detail="may be asking to stop texts")

    # A family phone: several patients share the number, so staff pick who wrote.
    family = _family_number()
    if family is not None:
        number, location = family
        convo = _conversation(ctx, None, contact=number, location=location, unread=1)
        _inbound(
            ctx, convo, "Hi, this is about my son's appointment next week. Can we come at 4?", hours_ago=1.5
        )
    # Rows were written directly (with past times): the list's row facts as the services would keep them.
    conversation_facts_refresh(Conversation.objects.filter(channel=channel))
    return dict(ctx.counts)


def _candidates(locations: list[Location]) -> dict[int, list[Patient]]:
    """Active, textable patients with a mobile number of their own and consent, per location."""
    shared = set(
        PatientPhone.objects.values("number")
        .order_by()
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("number", flat=True)
    )
    consented = set(
        ConsentEvent.objects.filter(kind=ConsentKind.GIVEN).values_list("phone_number", flat=True)
    )
    revoked = set(
        ConsentEvent.objects.filter(kind=ConsentKind.REVOKED).values_list("phone_number", flat=True)
    )
    pools: dict[int, list[Patient]] = {location.pk: [] for location in locations}
    patients = (
        Patient.objects.filter(
            status=PatientStatus.ACTIVE, confidential_communications=False, primary_location__in=locations
        )
        .select_related("primary_location")
        .prefetch_related("phones")
        .order_by("mrn")
    )
    for patient in patients:
        phones = [p for p in patient.phones.all() if p.kind == PhoneKind.MOBILE and p.is_primary]
        if phones and phones[0].number not in shared and phones[0].number in consented - revoked:
            pools[patient.primary_location_id].append(patient)
    return pools


def _without_consent(locations: list[Location]) -> Patient | None:
    consented = ConsentEvent.objects.values_list("phone_number", flat=True)
    phone = (
        PatientPhone.objects.filter(
            kind=PhoneKind.MOBILE,
            is_primary=True,
            patient__status=PatientStatus.ACTIVE,
            patient__primary_location__in=locations,
            patient__confidential_communications=False,
        )
        .exclude(number__in=consented)
        .select_related("patient__primary_location")
        .order_by("patient__mrn")
        .first()
    )
    return phone.patient if phone else None


def _family_number() -> tuple[str, Location] | None:
    row = (
        PatientPhone.objects.values("number")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("-n", "number")
        .first()
    )
    if row is None:
        return None
    patient = Patient.objects.select_related("primary_location").filter(phones__number=row["number"]).first()
    return (row["number"], patient.primary_location) if patient else None


def _conversation(
    ctx: _Seed,
    patient: Patient | None,
    *,
    contact: str = "",
    location: Location | None = None,
    unread: int = 0,
    assigned: Any = None,
    status: str = Conversation.Status.OPEN,
    opt_out_suspected: bool = False,
) -> Conversation:
    if patient is not None and not contact:
        contact = patient.phones.all()[0].number
    ctx.counts["conversations"] += 1
    return Conversation.objects.create(
        channel=ctx.channel,
        contact=contact,
        patient=patient,
        location=location or (patient.primary_location if patient else None),
        status=status,
        assigned_to=assigned,
        unread_count=unread,
        opt_out_suspected=opt_out_suspected,
    )


def _stamp(ctx: _Seed, convo: Conversation, message: Message, at: datetime, inbound: bool) -> None:
    Message.objects.filter(pk=message.pk).update(created_at=at)
    fields: dict[str, Any] = {}
    if convo.last_message_at is None or at > convo.last_message_at:
        fields["last_message_at"] = convo.last_message_at = at
    if inbound and (convo.last_inbound_at is None or at > convo.last_inbound_at):
        fields["last_inbound_at"] = convo.last_inbound_at = at
        # What the inbox list orders by and shows for the patient's last text (inbound processing keeps it).
        fields["last_patient_message_at"] = convo.last_patient_message_at = at
        fields["last_patient_preview"] = convo.last_patient_preview = patient_preview(
            message.body, has_media=bool(message.media)
        )
    if fields:
        Conversation.objects.filter(pk=convo.pk).update(**fields)


def _inbound(ctx: _Seed, convo: Conversation, body: str, *, hours_ago: float) -> Message:
    at = ctx.now - timedelta(hours=hours_ago)
    message = Message.objects.create(
        conversation=convo,
        channel=ctx.channel,
        patient=convo.patient,
        direction=Message.Direction.INBOUND,
        kind=MessageKind.PATIENT,
        to_address=ctx.channel.address,
        from_address=convo.contact,
        body=body,
        state=MessageState.RECEIVED,
        provider_message_id=ctx.provider_id(),
        processed_at=at,  # seeded history: already handled, so the sweep never answers it again
    )
    _stamp(ctx, convo, message, at, inbound=True)
    ctx.counts["messages"] += 1
    return message


def _outbound(
    ctx: _Seed,
    convo: Conversation,
    body: str,
    *,
    hours_ago: float,
    author: Any = None,
    kind: str = MessageKind.STAFF,
    state: str = MessageState.DELIVERED,
    error: tuple[str, str] = ("", ""),
    reason: str = "",
    due_at: datetime | None = None,
) -> Message:
    at = ctx.now - timedelta(hours=hours_ago)
    info = segment_info(body)
    went = state in (MessageState.SENT, MessageState.DELIVERED, MessageState.UNDELIVERED)
    message = Message.objects.create(
        conversation=convo,
        channel=ctx.channel,
        patient=convo.patient,
        direction=Message.Direction.OUTBOUND,
        kind=kind,
        to_address=convo.contact,
        from_address=ctx.channel.address,
        body=body,
        state=state,
        suppression_reason=reason,
        error_code=error[0],
        error_message=error[1],
        provider_message_id=ctx.provider_id() if went else None,
        author=author,
        scheduled=due_at is not None,
        due_at=due_at,
        attempts=1 if went else 0,
        segments=info.segments,
        encoding=info.encoding,
        sent_at=at + timedelta(seconds=2) if went else None,
        delivered_at=at + timedelta(seconds=6) if state == MessageState.DELIVERED else None,
        finished_at=at + timedelta(seconds=6)
        if state not in (MessageState.QUEUED, MessageState.SENT)
        else None,
    )
    _stamp(ctx, convo, message, at, inbound=False)
    ctx.counts["messages"] += 1
    return message


def _event(
    ctx: _Seed, convo: Conversation, kind: str, *, hours_ago: float, actor: Any = None, detail: str = ""
) -> None:
    event = ConversationEvent.objects.create(conversation=convo, kind=kind, actor=actor, detail=detail)
    ConversationEvent.objects.filter(pk=event.pk).update(at=ctx.now - timedelta(hours=hours_ago))
