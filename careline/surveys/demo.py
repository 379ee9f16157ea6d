"""The demo clinic's post-visit surveys (called by careline/demo when it loads the clinic).

Surveys are turned on at every demo location (CSAT at the first, NPS at the others, the front desk as the
manager, review invitations off), and completed visits of the last months get answered surveys (scores,
some comments, a few low ones, text and email, some unanswered) so the results page and the Service report
open with figures. Rows only: loading the demo texts nobody.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from careline.locations.models import Location
from careline.scheduling.models import Appointment, AppointmentStatus
from careline.surveys.models import SCALE_RANGE, Scale, SurveyRequest, SurveySettings, SurveyState
from careline.surveys.services.sending import SURVEY_INTERVAL

COMMENTS = (
    "Everyone was kind and on time.",
    "The wait was longer than I expected.",
    "Dr. explained everything clearly.",
    "Parking was hard to find.",
    "Muy amables, gracias.",
    "Quick and easy check-in.",
)


def surveys_seed_demo(
    *, locations: Sequence[Location], managers: Mapping[str, Any], now: datetime, seed: int = 13
) -> dict[str, int]:
    """Survey settings for LOCATIONS and answered surveys of their completed visits; the counts made."""
    rng = random.Random(seed)
    for index, location in enumerate(locations):
        SurveySettings.objects.update_or_create(
            location=location,
            defaults={"enabled": True, "scale": Scale.CSAT if index == 0 else Scale.NPS,
                      "manager": managers.get(location.name)},
        )  # fmt: skip
    scales = {loc.pk: (Scale.CSAT if i == 0 else Scale.NPS) for i, loc in enumerate(locations)}
    visits = (
        Appointment.objects.filter(
            location__in=locations, status=AppointmentStatus.COMPLETED, ends_at__lt=now
        )
        .exclude(survey_request__isnull=False)
        .order_by("ends_at", "pk")
    )
    last_asked: dict[int, datetime] = {}
    for patient_id, sent_at in SurveyRequest.objects.filter(sent_at__isnull=False).values_list(
        "patient_id", "sent_at"
    ):
        if sent_at is not None:
            last_asked[patient_id] = max(sent_at, last_asked.get(patient_id, sent_at))
    rows = []
    for visit in visits:
        sent_at = visit.ends_at + timedelta(hours=2)
        if sent_at > now or (
            visit.patient_id in last_asked and sent_at - last_asked[visit.patient_id] < SURVEY_INTERVAL
        ):
            continue
        last_asked[visit.patient_id] = sent_at
        scale = scales[visit.location_id]
        bottom, top = SCALE_RANGE[scale]
        answered = rng.random() < 0.7
        score = None
        if answered:
            score = top if rng.random() < 0.5 else rng.randint(bottom, top)
        low_mark = 2 if scale == Scale.CSAT else 6
        rows.append(
            SurveyRequest(
                appointment=visit, patient_id=visit.patient_id, location_id=visit.location_id,
                clinician_id=visit.clinician_id, appointment_type_id=visit.appointment_type_id, scale=scale,
                channel="email" if rng.random() < 0.25 else "sms",
                state=SurveyState.ANSWERED if answered else SurveyState.EXPIRED,
                due_at=sent_at, sent_at=sent_at,
                answered_at=sent_at + timedelta(minutes=rng.randint(2, 240)) if answered else None,
                score=score, low=score is not None and score <= low_mark,
                comment=rng.choice(COMMENTS) if answered and rng.random() < 0.4 else "",
            )
        )  # fmt: skip
    SurveyRequest.objects.bulk_create(rows)
    return {
        "surveys_sent": len(rows),
        "surveys_answered": sum(1 for row in rows if row.state == SurveyState.ANSWERED),
    }
