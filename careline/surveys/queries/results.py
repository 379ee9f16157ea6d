"""Survey results: aggregates in SQL (a constant number of queries whatever the range), by month, clinician,
appointment type and channel, plus the latest comments. CSAT and NPS are never mixed in one figure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from careline.surveys.models import Scale, SurveyRequest, SurveyState

ANSWERED_STATES = (SurveyState.COMMENTING, SurveyState.ANSWERED)
COMMENTS_SHOWN = 50


def pct(part: int, whole: int) -> float | None:
    return round(1000 * part / whole) / 10 if whole else None


@dataclass
class ScoreRow:
    """One group's figures: surveys sent, answered, the mean score and (by scale) the headline figure."""

    label: str
    scale: str
    sent: int = 0
    answered: int = 0
    average: float | None = None
    good: int = 0  # CSAT 4-5, NPS promoters (9-10)
    bad: int = 0  # CSAT 1-2, NPS detractors (0-6)

    @property
    def response_rate(self) -> float | None:
        return pct(self.answered, self.sent)

    @property
    def headline(self) -> float | None:
        """CSAT: the share satisfied (4 or 5); NPS: promoters minus detractors, in points."""
        if not self.answered:
            return None
        if self.scale == Scale.NPS:
            return round(100 * (self.good - self.bad) / self.answered)
        return pct(self.good, self.answered)


@dataclass
class SurveyResults:
    start: date
    end: date
    totals: list[ScoreRow] = field(default_factory=list)  # one per scale
    by_channel: list[ScoreRow] = field(default_factory=list)
    by_month: list[ScoreRow] = field(default_factory=list)
    by_clinician: list[ScoreRow] = field(default_factory=list)
    by_type: list[ScoreRow] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)


def _aggregates() -> dict[str, Any]:
    answered = Q(state__in=ANSWERED_STATES)
    csat_good = Q(scale=Scale.CSAT, score__gte=4)
    csat_bad = Q(scale=Scale.CSAT, score__lte=2)
    nps_good = Q(scale=Scale.NPS, score__gte=9)
    nps_bad = Q(scale=Scale.NPS, score__lte=6)
    return {
        "n_sent": Count("pk"),
        "n_answered": Count("pk", filter=answered),
        "mean": Avg("score", filter=answered),
        "n_good": Count("pk", filter=answered & (csat_good | nps_good)),
        "n_bad": Count("pk", filter=answered & (csat_bad | nps_bad)),
    }


def _rows(rows: Any, label: Any) -> list[ScoreRow]:
    return [
        ScoreRow(
            label=label(row),
            scale=row["scale"],
            sent=row["n_sent"],
            answered=row["n_answered"],
            average=None if row["mean"] is None else round(float(row["mean"]), 2),
            good=row["n_good"],
            bad=row["n_bad"],
        )
        for row in rows
    ]


def surveys_sent(
    *, location_ids: Sequence[int], start: date, end: date, zone: ZoneInfo,
    clinician_id: int | None = None, appointment_type_id: int | None = None,
) -> QuerySet[SurveyRequest]:  # fmt: skip
    """The surveys sent at LOCATION_IDS from START to END (local days, inclusive), filtered."""
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end, time.max, tzinfo=zone)
    surveys = SurveyRequest.objects.filter(
        location_id__in=location_ids, sent_at__gte=since, sent_at__lte=until
    )
    if clinician_id:
        surveys = surveys.filter(clinician_id=clinician_id)
    if appointment_type_id:
        surveys = surveys.filter(appointment_type_id=appointment_type_id)
    return surveys


def survey_results(
    *, location_ids: Sequence[int], start: date, end: date, zone: ZoneInfo,
    clinician_id: int | None = None, appointment_type_id: int | None = None,
) -> SurveyResults:  # fmt: skip
    """The results page's figures in six queries."""
    sent = surveys_sent(location_ids=location_ids, start=start, end=end, zone=zone, clinician_id=clinician_id,
                        appointment_type_id=appointment_type_id)  # fmt: skip
    agg = _aggregates()
    scale_label = dict(Scale.choices)
    result = SurveyResults(start=start, end=end)
    result.totals = _rows(
        sent.values("scale").annotate(**agg).order_by("scale"), lambda r: scale_label[r["scale"]]
    )
    result.by_channel = _rows(
        sent.values("scale", "channel").annotate(**agg).order_by("channel", "scale"),
        lambda r: {"sms": "Text", "email": "Email"}.get(r["channel"], r["channel"] or "—"),
    )
    result.by_month = _rows(
        sent.annotate(month=TruncMonth("sent_at", tzinfo=zone))
        .values("month", "scale")
        .annotate(**agg)
        .order_by("month", "scale"),
        lambda r: r["month"].strftime("%b %Y"),
    )
    result.by_clinician = _rows(
        sent.values("clinician__full_name", "scale").annotate(**agg).order_by("clinician__full_name", "scale"),
        lambda r: r["clinician__full_name"],
    )  # fmt: skip
    result.by_type = _rows(
        sent.values("appointment_type__name", "scale")
        .annotate(**agg)
        .order_by("appointment_type__name", "scale"),
        lambda r: r["appointment_type__name"],
    )
    comments = (
        sent.filter(state__in=ANSWERED_STATES).exclude(comment="")
        .order_by("-answered_at", "-pk")
        .values("pk", "answered_at", "score", "scale", "comment", "low", "clinician__full_name",
                "appointment_type__name", "location__name")[:COMMENTS_SHOWN]
    )  # fmt: skip
    result.comments = [dict(row) for row in comments]
    return result


def survey_summary(*, location_ids: Sequence[int], days: int = 90) -> list[ScoreRow]:
    """Per scale, the last DAYS days' surveys at LOCATION_IDS (the reports pages' section); one query."""
    from datetime import timedelta

    from django.utils import timezone

    since = timezone.now() - timedelta(days=days)
    rows = SurveyRequest.objects.filter(location_id__in=location_ids, sent_at__gte=since)
    scale_label = dict(Scale.choices)
    return _rows(
        rows.values("scale").annotate(**_aggregates()).order_by("scale"), lambda r: scale_label[r["scale"]]
    )
