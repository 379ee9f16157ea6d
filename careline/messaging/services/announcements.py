"""Announcements: one templated message to a filtered set of patients, through the one outbound path.

The Announcement row is written first; a task (`announcement_fanout`) then creates one message per
recipient in batches with `messages_send_bulk` (message_send's rules, a few queries per batch), whose
idempotency key ("announcement:<id>:<patient id>") makes a second run of the task (a retry, a duplicate
delivery, a resume after a worker died) create nothing new. Consent, opt-outs, deceased or confidential
patients and quiet hours are applied exactly as `message_send` applies them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.collector import collection_paused
from careline.core.queue import task_enqueue
from careline.locations.models import Location
from careline.messaging.models import Announcement, Message, MessageKind, MessageState, SuppressionReason
from careline.messaging.template_values import patient_values
from careline.messaging.templating import TemplateKind, template_render, template_validate
from careline.patients.models import Patient, PatientStatus, Purpose
from careline.patients.queries import patients_visible_to

FANOUT_BATCH = 2000  # recipients per bulk insert (messages_send_bulk: a few queries per batch)
SAMPLE_FIRST_NAME = "Alex"


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

    Safe to run twice or concurrently: each message's idempotency key is unique in the database.
    """
    announcement = (
        Announcement.objects.select_related("location", "created_by").filter(pk=announcement_id).first()
    )
    if announcement is None or announcement.state == Announcement.State.DONE:
        return 0
    recipients = announcement_recipients(
        user=announcement.created_by, location=announcement.location, language=announcement.language
    ).select_related("primary_location")
    from careline.messaging.outbound.bulk import OutboundItem, messages_send_bulk
    from careline.messaging.services.channels import channel_default

    channel = channel_default("sms")
    if channel is None:
        return 0  # no channel configured: nothing to send through; the counts show the shortfall
    with collection_paused():  # thousands of patients and messages: no collector pauses (core/collector.py)
        created = 0
        last_pk = 0
        while True:
            batch = list(recipients.filter(pk__gt=last_pk)[:FANOUT_BATCH].prefetch_related("phones"))
            if not batch:
                break
            last_pk = batch[-1].pk
            keys = {announcement_key(announcement.pk, patient.pk): patient for patient in batch}
            done = set(
                Message.objects.filter(idempotency_key__in=list(keys)).values_list(
                    "idempotency_key", flat=True
                )
            )
            items = [
                OutboundItem(body=_body_for(announcement, patient), idempotency_key=key, patient=patient)
                for key, patient in keys.items()
                if key not in done
            ]
            results = messages_send_bulk(
                items=items,
                channel=channel,
                kind=MessageKind.ANNOUNCEMENT,
                purpose=Purpose.GENERAL,
                author=announcement.created_by,
                announcement_id=announcement.pk,
            )
            created += sum(
                1
                for result in results.values()
                if isinstance(result, Message) and result.announcement_id == announcement.pk
            )
    sent_to = Message.objects.filter(announcement=announcement).count()
    Announcement.objects.filter(pk=announcement.pk).update(state=Announcement.State.DONE, total=sent_to)
    return created


def _body_for(announcement: Announcement, patient: Patient) -> str:
    # Stored before templates were checked, a bad field renders as nothing rather than failing the fan-out.
    return template_render(
        announcement.body,
        template_values(patient=patient, location=announcement.location),
        kind=TemplateKind.ANNOUNCEMENT,
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
