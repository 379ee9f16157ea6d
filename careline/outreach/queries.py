"""Reads of outreach: who a recall rule finds due (one SQL statement per rule), the preview with who is
skipped and why (counted by the database), and a campaign's results."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from careline.core.permissions import Perm, has_perm
from careline.messaging.models import Channel, MessageKind, MessageState, SuppressionReason
from careline.messaging.outbound.policy import SuppressionFacts, patient_sms_number, suppression_reason_for
from careline.messaging.outbound.policy_sql import with_text_reason
from careline.outreach.models import Audience, Campaign, Recall, RecallRule
from careline.patients.models import Patient, PatientStatus, Purpose
from careline.records.models import Immunization, ImmunizationStatus
from careline.scheduling.models import Appointment, AppointmentStatus

# Visits that did not happen do not count as the visit a rule looks for.
NOT_HELD = (
    AppointmentStatus.CANCELLED_PATIENT,
    AppointmentStatus.CANCELLED_CLINIC,
    AppointmentStatus.RESCHEDULED,
    AppointmentStatus.NO_SHOW,
)


def months_before(day: date, months: int) -> date:
    """DAY moved back MONTHS calendar months (the 31st becomes the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def birthday_on_or_before(today: date, years: int) -> date:
    """The latest date of birth of someone YEARS old on TODAY (29 February: 28 February in other years)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def _start_of(day: date, zone: object) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)  # type: ignore[arg-type]


def audience_due(audience: Audience, *, today: date) -> QuerySet[Patient]:
    """The patients of AUDIENCE's location (active or deceased: the preview shows why the deceased are skipped)
    that its rule finds due on TODAY (the location's date), ordered by id."""
    zone = audience.location.zone
    patients = Patient.objects.filter(
        primary_location_id=audience.location_id, status__in=(PatientStatus.ACTIVE, PatientStatus.DECEASED)
    )
    if audience.min_age is not None:
        patients = patients.filter(date_of_birth__lte=birthday_on_or_before(today, audience.min_age))
    if audience.max_age is not None:
        # Still MAX_AGE years old: born after the day they turned MAX_AGE + 1.
        patients = patients.filter(date_of_birth__gt=birthday_on_or_before(today, audience.max_age + 1))
    held = ~Q(status__in=NOT_HELD)
    if audience.rule == RecallRule.NO_VISIT:
        since = _start_of(months_before(today, audience.months), zone)
        visits = Appointment.objects.filter(
            held, patient=OuterRef("pk"), appointment_type_id=audience.visit_type_id, starts_at__gte=since
        )
        patients = patients.exclude(Exists(visits))
    elif audience.rule == RecallRule.FOLLOW_UP:
        since = _start_of(months_before(today, audience.months), zone)
        until = _start_of(today, zone) - timedelta(weeks=audience.weeks)
        followups = Appointment.objects.filter(
            held,
            patient=OuterRef("patient"),
            appointment_type_id=audience.visit_type_id,
            starts_at__gt=OuterRef("starts_at"),
        )
        visits = Appointment.objects.filter(
            patient=OuterRef("pk"),
            status=AppointmentStatus.COMPLETED,
            starts_at__gte=since,
            starts_at__lt=until,
        )
        if audience.after_type_id is not None:
            visits = visits.filter(appointment_type_id=audience.after_type_id)
        patients = patients.filter(Exists(visits.exclude(Exists(followups))))
    elif audience.rule == RecallRule.VACCINE:
        given = Immunization.objects.filter(
            patient=OuterRef("pk"), status=ImmunizationStatus.COMPLETED, vaccine__icontains=audience.vaccine
        )
        if audience.months:
            given = given.filter(date_given__gt=months_before(today, audience.months))
        patients = patients.exclude(Exists(given))
    else:  # an unknown rule finds nobody rather than everybody
        return Patient.objects.none()
    return patients.order_by("pk")


# --- who is skipped, and why ----------------------------------------------------------------------------

RECALLED_RECENTLY = "recalled_recently"
NO_CHANNEL = "no_channel"
RECENT_DAYS = 30
SKIP_LABELS: dict[str, str] = {
    **dict(SuppressionReason.choices),
    SuppressionReason.NO_CONTACT: "No mobile number",
    SuppressionReason.NO_PURPOSE_CONSENT: "No consent to marketing texts",
    RECALLED_RECENTLY: f"Recalled by this audience in the last {RECENT_DAYS} days",
    NO_CHANNEL: "No channel is configured for texts",
}


def skip_label(reason: str) -> str:
    return SKIP_LABELS.get(reason, reason.replace("_", " "))


def audience_purpose(audience: Audience) -> str:
    """Care-related recalls go as care texts; every other recall is marketing (it needs that consent)."""
    return Purpose.CARE if audience.care_related else Purpose.MARKETING


def skip_reasons(
    patients: Sequence[Patient], *, audience: Audience, channel: Channel | None, now: datetime
) -> dict[int, str]:
    """Why each of PATIENTS (phones prefetched) would get no recall now ('' when it would go), as
    message_send decides (consent, opt-out, purpose consent, mobile, deceased, confidential), plus a recall
    of the same audience in the last RECENT_DAYS days. A fixed number of queries for the whole batch."""
    numbers = {patient.pk: patient_sms_number(patient) or "" for patient in patients}
    purpose = audience_purpose(audience)
    facts = SuppressionFacts.load(list(numbers.values()), purposes=[purpose])
    recent = set(
        Recall.objects.filter(
            campaign__audience=audience,
            patient_id__in=list(numbers),
            message__isnull=False,
            created_at__gte=now - timedelta(days=RECENT_DAYS),
        ).values_list("patient_id", flat=True)
    )
    reasons: dict[int, str] = {}
    for patient in patients:
        if channel is None:
            reasons[patient.pk] = NO_CHANNEL
            continue
        reason = suppression_reason_for(
            channel=channel,
            address=numbers[patient.pk],
            patient=patient,
            kind=MessageKind.AUTOMATED,
            purpose=purpose,
            facts=facts,
        )
        reasons[patient.pk] = reason or (RECALLED_RECENTLY if patient.pk in recent else "")
    return reasons


@dataclass
class PreviewRow:
    patient: Patient
    reason: str

    @property
    def reason_label(self) -> str:
        return skip_label(self.reason) if self.reason else ""


@dataclass
class AudiencePreview:
    """How many patients the rule finds, how many a recall would reach, who is skipped and why, first rows."""

    due: int
    reachable: int
    skipped: list[tuple[str, int]] = field(default_factory=list)
    rows: list[PreviewRow] = field(default_factory=list)


PREVIEW_FIELDS = (
    "id",
    "status",
    "confidential_communications",
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
)


def audience_preview(
    audience: Audience, *, today: date, now: datetime, channel: Channel | None, first: int = 20
) -> AudiencePreview:
    """Count AUDIENCE's due patients and who would be skipped and why, in the database (messaging's rule as
    SQL, `with_text_reason`, pinned equal to `skip_reasons`), and the first FIRST patients with their reasons."""
    due = audience_due(audience, today=today)
    if channel is None:
        total = due.count()
        skipped = [(skip_label(NO_CHANNEL), total)] if total else []
        rows = [PreviewRow(p, NO_CHANNEL) for p in due.only(*PREVIEW_FIELDS)[:first]]
        return AudiencePreview(due=total, reachable=0, skipped=skipped, rows=rows)
    recent = Recall.objects.filter(
        campaign__audience=audience,
        patient_id=OuterRef("pk"),
        message__isnull=False,
        created_at__gte=now - timedelta(days=RECENT_DAYS),
    )
    annotated = with_text_reason(due, channel=channel, purpose=audience_purpose(audience)).annotate(
        reason=Case(
            When(Q(text_reason="") & Exists(recent), then=Value(RECALLED_RECENTLY)),
            default=F("text_reason"),
            output_field=CharField(),
        )
    )
    counts = {
        row["reason"]: row["n"] for row in annotated.order_by().values("reason").annotate(n=Count("pk"))
    }
    total = sum(counts.values())
    reachable = counts.pop("", 0)
    skipped = [
        (skip_label(reason), n) for reason, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    rows = [PreviewRow(p, p.reason) for p in annotated.only(*PREVIEW_FIELDS)[:first]]
    return AudiencePreview(due=total, reachable=reachable, skipped=skipped, rows=rows)


# --- lists and results ----------------------------------------------------------------------------------


def audiences_visible_to(user: Any) -> QuerySet[Audience]:
    """The audiences of USER's locations (none without OUTREACH_MANAGE)."""
    if not has_perm(user, Perm.OUTREACH_MANAGE):
        return Audience.objects.none()
    return Audience.objects.filter(location_id__in=user.location_ids).select_related(
        "location", "visit_type", "after_type"
    )


def campaigns_visible_to(user: Any) -> QuerySet[Campaign]:
    """The campaigns of USER's locations' audiences, newest first."""
    return (
        Campaign.objects.filter(audience__in=audiences_visible_to(user))
        .select_related("audience", "audience__location", "created_by")
        .annotate(recall_count=Count("recalls"))
    )


@dataclass
class CampaignResults:
    """What became of a campaign: recalls sent, skipped by reason, held for quiet hours, call-backs, bookings."""

    recalls: int = 0
    sent: int = 0
    held: int = 0
    skipped: list[tuple[str, int]] = field(default_factory=list)
    callbacks: int = 0
    booked: int = 0
    rows: list[Recall] = field(default_factory=list)

    @property
    def booked_percent(self) -> int:
        return round(100 * self.booked / self.sent) if self.sent else 0


def campaign_results(campaign: Campaign, *, first: int = 50) -> CampaignResults:
    """The campaign's counts in a few queries, and its first recalls with their patients."""
    days = timedelta(days=settings.CARELINE_RECALL_RESULT_DAYS)
    booked = Appointment.objects.filter(
        patient=OuterRef("patient"),
        created_at__gte=OuterRef("created_at"),
        created_at__lt=OuterRef("created_at") + days,
    ).exclude(status=AppointmentStatus.RESCHEDULED)
    if campaign.audience.visit_type_id is not None:
        booked = booked.filter(appointment_type_id=campaign.audience.visit_type_id)
    recalls = Recall.objects.filter(campaign=campaign).annotate(
        booked=Exists(booked),
        asked=Case(
            When(callback_requested_at__isnull=False, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )
    results = CampaignResults()
    reasons: Counter[str] = Counter()
    for skipped_reason, state, suppression, held, callback, was_booked, n in (
        recalls.values_list(
            "skipped_reason",
            "message__state",
            "message__suppression_reason",
            "message__held_for_quiet_hours",
            "asked",
            "booked",
        )
        .annotate(n=Count("id"))
        .order_by()
    ):
        results.recalls += n
        reason = skipped_reason or (suppression if state == MessageState.SUPPRESSED else "")
        if state == MessageState.CANCELLED:
            reason = "cancelled"
        if reason:
            reasons[reason] += n
            continue
        results.sent += n
        if state == MessageState.QUEUED and held:
            results.held += n
        if callback:
            results.callbacks += n
        if was_booked:
            results.booked += n
    results.skipped = [(skip_label(reason), n) for reason, n in reasons.most_common()]
    results.rows = list(recalls.select_related("patient", "message").order_by("id")[:first])
    return results
