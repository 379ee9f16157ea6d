"""Announcements: one templated message to a filtered set of patients, through the one outbound path.

The Announcement row is written first; a task (`announcement_fanout`) then creates one message per
recipient in batches with `messages_send_bulk` (message_send's rules, a few queries per batch), whose
idempotency key ("announcement:<id>:<patient id>") makes a second run of the task (a retry, a duplicate
delivery, a resume after a worker died) create nothing new. Consent, opt-outs, deceased or confidential
patients and quiet hours are applied exactly as `message_send` applies them. Recipients are read with the
few columns the text and the checks need, the text is rendered once per distinct set of values, and
FANOUT_COMMIT recipients' messages are committed together (their send tasks go out after that commit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet, prefetch_related_objects
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.collector import collection_paused
from careline.core.queue import task_enqueue
from careline.locations.models import Location
from careline.messaging.models import (
    Announcement,
    Channel,
    Message,
    MessageKind,
    MessageState,
    SuppressionReason,
)
from careline.messaging.outbound.bulk import OutboundItem, messages_send_bulk
from careline.messaging.outbound.policy import patients_sms_numbers
from careline.messaging.template_values import patient_values
from careline.messaging.templating import TemplateKind, template_render, template_validate
from careline.patients.models import Patient, PatientStatus, Purpose
from careline.patients.queries import patients_visible_to

FANOUT_BATCH = 2000  # recipients per bulk insert (messages_send_bulk: a few queries per batch)
FANOUT_COMMIT = 10_000  # recipients per transaction: a whole batch's commit waits for the WAL to reach disk
SAMPLE_FIRST_NAME = "Alex"
# What the texts and message_send's checks read of a recipient (consent and opt-out go by the number).
RECIPIENT_FIELDS = (
    "legal_first_name",
    "preferred_name",
    "language",
    "time_zone",
    "status",
    "confidential_communications",
    "email",
    "primary_location",
)


def announcement_key(announcement_id: int, patient_id: int) -> str:
    """The idempotency key of one recipient's message: the same announcement never texts a patient twice."""
    return f"announcement:{announcement_id}:{patient_id}"


def announcement_recipients(*, user: Any, location: Location | None, language: str) -> QuerySet[Patient]:
    """Active patients USER may see, at LOCATION (any of theirs when None) and speaking LANGUAGE ('' any)."""
    patients = patients_visible_to(user).filter(status=PatientStatus.ACTIVE)
    if location is not None:
        patients = patients.filter(primary_location=location)
    if language:
        patients = patients.filter(language=language)
    return patients.order_by("pk")


def template_values(*, patient: Patient | None, location: Location | None) -> dict[str, str]:
    """The allow-listed fields for a message to PATIENT about LOCATION (their own when None)."""
    return patient_values(patient=patient, location=location, first_name=SAMPLE_FIRST_NAME)


@dataclass(frozen=True)
class AnnouncementPreview:
    """How many patients an announcement would reach, and the text one of them would get."""

    count: int
    sample: str


def announcement_preview(
    *, actor: Actor, body: str, location: Location | None, language: str
) -> AnnouncementPreview:
    """Count the recipients and render the text for the first (TemplateProblem when BODY is not allowed)."""
    template_validate(body, kind=TemplateKind.ANNOUNCEMENT)
    recipients = announcement_recipients(user=actor.staff_user, location=location, language=language)
    count = recipients.count()
    first = recipients.select_related("primary_location").first()
    sample = template_render(
        body, template_values(patient=first, location=location), kind=TemplateKind.ANNOUNCEMENT
    )
    audit_record(
        actor=actor,
        action=AuditAction.SEARCH,
        object_type="patients.patient",
        detail=f"announcement preview; location {location.pk if location else 'any'}; "
        f"language {language or 'any'}; {count} recipients",
    )
    return AnnouncementPreview(count=count, sample=sample)


def announcement_create(
    *,
    actor: Actor,
    title: str,
    body: str,
    location: Location | None,
    language: str,
) -> Announcement:
    """Store the announcement and start sending it; TemplateProblem when BODY is not allowed."""
    template_validate(body, kind=TemplateKind.ANNOUNCEMENT)
    user = actor.staff_user
    total = announcement_recipients(user=user, location=location, language=language).count()
    with transaction.atomic():
        announcement = Announcement.objects.create(
            title=title.strip(),
            body=body.strip(),
            location=location,
            language=language,
            state=Announcement.State.SENDING,
            total=total,
            created_by=user,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=announcement,
            detail=f"announcement to {total} patients; location {location.pk if location else 'any'}; "
            f"language {language or 'any'}",
        )
        announcement_id = announcement.pk
        transaction.on_commit(lambda: _enqueue_fanout(announcement_id))
    return announcement


def _enqueue_fanout(announcement_id: int) -> None:
    task_enqueue("messaging.announcement_fanout", announcement_id)


def announcement_messages_create(*, announcement_id: int) -> int:
    """Create the message of every recipient not yet messaged, in batches; the number created now.

    Safe to run twice or concurrently: each message's idempotency key is unique in the database. Recipients
    are read with only the columns the texts and the checks need, FANOUT_COMMIT of them per transaction.
    """
    announcement = (
        Announcement.objects.select_related("location", "created_by").filter(pk=announcement_id).first()
    )
    if announcement is None or announcement.state == Announcement.State.DONE:
        return 0
    from careline.messaging.services.channels import channel_default

    channel = channel_default("sms")
    if channel is None:
        return 0  # no channel configured: nothing to send through; the counts show the shortfall
    recipients = announcement_recipients(
        user=announcement.created_by, location=announcement.location, language=announcement.language
    ).only(*RECIPIENT_FIELDS)
    texts = AnnouncementTexts(announcement)
    # A resumed run skips who has theirs already (messages_send_bulk would find them by key too, reading
    # each message back); a first run finds none.
    done = {
        key
        for key in Message.objects.filter(announcement_id=announcement.pk).values_list(
            "idempotency_key", flat=True
        )
        if key
    }
    created = 0
    batches = _recipient_batches(recipients)
    with collection_paused():  # thousands of patients and messages: no collector pauses (core/collector.py)
        while part := list(islice(batches, FANOUT_COMMIT // FANOUT_BATCH)):
            # One commit (one WAL flush) per FANOUT_COMMIT recipients; their send tasks go out after it.
            with transaction.atomic():
                for batch in part:
                    created += _batch_messages_create(announcement, batch, channel, texts, done)
    sent_to = Message.objects.filter(announcement=announcement).count()
    Announcement.objects.filter(pk=announcement.pk).update(state=Announcement.State.DONE, total=sent_to)
    return created


def _recipient_batches(recipients: QuerySet[Patient]) -> Iterator[list[Patient]]:
    """RECIPIENTS in batches of FANOUT_BATCH, in id order (each batch read when it is needed)."""
    last_pk = 0
    while batch := list(recipients.filter(pk__gt=last_pk)[:FANOUT_BATCH]):
        last_pk = batch[-1].pk
        yield batch


def _batch_messages_create(
    announcement: Announcement,
    batch: list[Patient],
    channel: Channel,
    texts: AnnouncementTexts,
    done: set[str],
) -> int:
    """The messages of BATCH's recipients not in DONE (their keys); how many were created."""
    addressed = _texting_numbers(batch, channel)
    items = [
        OutboundItem(
            body=texts.body(patient),
            idempotency_key=key,
            patient=patient,
            to_address=addressed.get(patient.pk),
        )
        for patient in batch
        if (key := announcement_key(announcement.pk, patient.pk)) not in done
    ]
    if not items:
        return 0
    results = messages_send_bulk(
        items=items,
        channel=channel,
        kind=MessageKind.ANNOUNCEMENT,
        purpose=Purpose.GENERAL,
        author=announcement.created_by,
        announcement_id=announcement.pk,
    )
    return sum(
        1
        for result in results.values()
        if isinstance(result, Message) and result.announcement_id == announcement.pk
    )


def _texting_numbers(patients: list[Patient], channel: Channel) -> dict[int, str]:
    """The number each of PATIENTS is texted at (message_send's choice, `patients_sms_numbers`), one query.

    Patients without one get their (empty) phones loaded, so the bulk send's own choice finds none without a
    query each. An email channel addresses each by their email (read with them): no numbers.
    """
    if "email" in channel.type.capabilities:
        return {}
    numbers = patients_sms_numbers([patient.pk for patient in patients])
    phoneless = [patient for patient in patients if patient.pk not in numbers]
    if phoneless:
        prefetch_related_objects(phoneless, "phones")
    return numbers


class AnnouncementTexts:
    """The text of an announcement for each recipient: its template rendered once per distinct set of values
    (first name, location, language), the recipients' own locations read once."""

    def __init__(self, announcement: Announcement) -> None:
        self.template = announcement.body
        self.location = announcement.location
        self.locations: dict[int, Location] = {}
        self.rendered: dict[tuple[str, int | None, str], str] = {}

    def body(self, patient: Patient) -> str:
        """What `template_render` makes of the announcement with `template_values` for PATIENT."""
        location = self.location or self._location(patient.primary_location_id)
        key = (patient.first_name, location.pk if location else None, patient.language)
        if key not in self.rendered:
            self.rendered[key] = _rendered(self.template, patient=patient, location=location)
        return self.rendered[key]

    def _location(self, location_id: int) -> Location:
        if location_id not in self.locations:
            self.locations[location_id] = Location.objects.get(pk=location_id)
        return self.locations[location_id]


def _rendered(template: str, *, patient: Patient, location: Location | None) -> str:
    # Stored before templates were checked, a bad field renders as nothing rather than failing the fan-out.
    return template_render(
        template, template_values(patient=patient, location=location), kind=TemplateKind.ANNOUNCEMENT
    )


@dataclass
class AnnouncementProgress:
    """Counts of an announcement's messages by state, and of the suppressed ones by reason."""

    total: int
    created: int
    by_state: dict[str, int] = field(default_factory=dict)
    held_for_quiet_hours: int = 0
    suppressed_reasons: list[tuple[str, int]] = field(default_factory=list)
    finished: bool = False

    @property
    def percent(self) -> int:
        if not self.total:
            return 100
        settled = sum(
            self.by_state.get(state, 0) for state in ("delivered", "failed", "suppressed", "undelivered")
        )
        return min(100, round(100 * settled / self.total))


PROGRESS_STATES = ("queued", "sent", "delivered", "failed", "suppressed")
# States shown together: a message being sent is still queued; not delivered is a failure; cancelled was not sent.
PROGRESS_BUCKETS: dict[str, str] = {
    MessageState.SENDING: "queued",
    MessageState.UNDELIVERED: "failed",
    MessageState.CANCELLED: "suppressed",
}


def announcement_progress(announcement: Announcement) -> AnnouncementProgress:
    """Where an announcement's messages are: queued (incl. sending), sent, delivered, failed, suppressed."""
    rows = (
        Message.objects.filter(announcement=announcement)
        .values("state", "suppression_reason", "held_for_quiet_hours")
        .annotate(n=Count("id"))
    )
    by_state: Counter[str] = Counter({state: 0 for state in PROGRESS_STATES})
    reasons: Counter[str] = Counter()
    held = 0
    for row in rows:
        state = row["state"]
        bucket = PROGRESS_BUCKETS.get(state, state)
        by_state[bucket] += row["n"]
        if state == MessageState.QUEUED and row["held_for_quiet_hours"]:
            held += row["n"]
        if state == MessageState.SUPPRESSED:
            reasons[row["suppression_reason"]] += row["n"]
        elif state == MessageState.CANCELLED:
            reasons["cancelled"] += row["n"]
    labels = dict(SuppressionReason.choices) | {"cancelled": "Cancelled by staff"}
    created = sum(by_state.values())
    # Messages held for quiet hours wait until morning: the page need not keep asking all night for them.
    moving = by_state["queued"] - held + by_state["sent"]
    finished = announcement.state == Announcement.State.DONE and moving == 0
    return AnnouncementProgress(
        total=max(announcement.total, created),
        created=created,
        by_state=dict(by_state),
        held_for_quiet_hours=held,
        suppressed_reasons=[(labels.get(code, code), n) for code, n in reasons.most_common()],
        finished=finished,
    )


def announcements_stalled(*, older_than_seconds: int = 300) -> list[int]:
    """Announcements still SENDING long after they were created: their fan-out task was lost."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Announcement.objects.filter(state=Announcement.State.SENDING, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
