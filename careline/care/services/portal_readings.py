"""Readings a patient (or a caregiver granted the care section) enters in the portal, and the check-ins the
portal shows. The portal (a higher app) renders the page and calls these services.

Each value typed in the portal goes through the text parser (careline/care/parsing.py), with the field's
measure as the one asked for, so "150/95", "82.5 kg", "101.3" and "7.2 mmol" read as in a text, implausible
values are questioned and nothing is stored while any value of the form has a problem. Stored readings
(source `portal`) are judged by `reading_record` like a text's: thresholds, trends, alerts, and a critical
reading pages the clinician on call after hours in the same transaction, so the page can say so at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from careline.care.measures import Measure
from careline.care.models import (
    CheckIn,
    CheckInState,
    Enrolment,
    EnrolmentState,
    ProgramChannel,
    ProgramMeasure,
    Reading,
    ReadingSource,
    Severity,
)
from careline.care.parsing import Outcome, ParsedReading, reading_parse
from careline.care.services.prompts import prompts_close
from careline.care.services.readings import (
    critical_advice,
    on_call_told_of_critical,
    reading_record,
    reading_words,
)
from careline.care.texts import (
    CONFIRMED,
    IMPLAUSIBLE,
    MEASURE_EXAMPLE,
    PORTAL_NOTHING,
    PORTAL_UNREADABLE,
    care_text,
    when_text,
)
from careline.core.actor import Actor
from careline.core.languages import say, text_language
from careline.patients.models import Patient

YES, NO = "yes", "no"
MAX_TEXT = 40


@dataclass(frozen=True)
class PortalAnswer:
    """One field of the portal's form: its name, the measure it asks for and what was typed (or yes/no)."""

    key: str
    measure: str
    text: str


@dataclass
class PortalEntry:
    """What became of a portal form: the problems (nothing stored then) or the readings and what to say."""

    problems: dict[str, str] = field(default_factory=dict)  # field name (or "" for the form) -> message
    readings: list[Reading] = field(default_factory=list)
    confirmation: str = ""
    critical: bool = False
    advice: str = ""  # what to do now, after a critical reading
    on_call_told: bool = False
    checkin_answered: bool = False

    @property
    def stored(self) -> bool:
        return bool(self.readings)


def portal_enrolments(patient: Patient) -> list[Enrolment]:
    """PATIENT's active enrolments with their program's measures, newest first (two queries)."""
    return list(
        Enrolment.objects.filter(patient=patient, state=EnrolmentState.ACTIVE)
        .select_related("program", "location")
        .prefetch_related(
            Prefetch("program__measures", queryset=ProgramMeasure.objects.order_by("position", "pk"))
        )
        .order_by("-created_at", "-pk")
    )


def portal_checkins_due(patient: Patient) -> list[CheckIn]:
    """PATIENT's check-ins waiting for an answer in the portal (sent, enrolment active, portal channel)."""
    return list(
        CheckIn.objects.filter(
            enrolment__patient=patient,
            enrolment__state=EnrolmentState.ACTIVE,
            enrolment__channel__in=[ProgramChannel.PORTAL, ProgramChannel.BOTH],
            state=CheckInState.SENT,
        )
        .select_related("enrolment__program")
        .order_by("-due_at", "-pk")
    )


def _parsed(answer: PortalAnswer, language: str) -> tuple[ParsedReading | None, str]:
    """ANSWER read as its measure, or the problem to show beside its field."""
    text = (answer.text or "").strip()
    example = say(MEASURE_EXAMPLE[Measure(answer.measure)], language)
    if answer.measure == Measure.SYMPTOM:
        if text not in (YES, NO):
            return None, say(PORTAL_UNREADABLE, language, example=example)
        value = Decimal(1 if text == YES else 0)
        return ParsedReading(measure=Measure.SYMPTOM, value=value, original_value=text), ""
    if len(text) > MAX_TEXT:
        return None, say(PORTAL_UNREADABLE, language, example=example)
    result = reading_parse(text, expected=[answer.measure])
    if result.outcome == Outcome.IMPLAUSIBLE:  # in this field, whichever measure the parser took it for
        return None, care_text(IMPLAUSIBLE, language, {}, example=example)
    mine = [r for r in result.readings if r.measure == answer.measure]
    if result.outcome != Outcome.READ or len(mine) != 1:
        return None, say(PORTAL_UNREADABLE, language, example=example)
    return mine[0], ""


def portal_readings_record(
    *,
    enrolment: Enrolment,
    answers: Sequence[PortalAnswer],
    actor: Actor,
    language: str,
    now: datetime | None = None,
) -> PortalEntry:
    """Record the ANSWERS given in the portal for ENROLMENT's measures (source `portal`), all or nothing.

    A sent check-in of a portal (or text and portal) enrolment is answered by them (not missed); its text
    prompt closes. Messages are in LANGUAGE (the portal page's).
    """
    language = text_language(language)
    wanted = {m.measure for m in enrolment.program.measures.all()}
    entry = PortalEntry()
    parsed: list[tuple[PortalAnswer, ParsedReading]] = []
    for answer in answers:
        if not (answer.text or "").strip():
            continue
        if answer.measure not in wanted:
            entry.problems[answer.key] = say(PORTAL_NOTHING, language)
            continue
        reading, problem = _parsed(answer, language)
        if problem:
            entry.problems[answer.key] = problem
        elif reading is not None:
            parsed.append((answer, reading))
    if not parsed and not entry.problems:
        entry.problems[""] = say(PORTAL_NOTHING, language)
    if entry.problems:
        return entry
    patient = enrolment.patient
    now = now or timezone.now()
    with transaction.atomic():
        # One patient's readings are judged one after another (as for texts racing).
        Enrolment.objects.select_for_update().filter(pk=enrolment.pk).exists()
        checkin = None
        if enrolment.channel in (ProgramChannel.PORTAL, ProgramChannel.BOTH):
            checkin = (
                CheckIn.objects.filter(enrolment=enrolment, state=CheckInState.SENT)
                .order_by("-due_at")
                .first()
            )
        entry.readings = [
            reading_record(
                patient=patient,
                parsed=reading,
                source=ReadingSource.PORTAL,
                actor=actor,
                taken_at=now,
                original_text=answer.text.strip(),
                enrolment=enrolment,
                checkin=checkin,
            )
            for answer, reading in parsed
        ]
        if checkin is not None:
            entry.checkin_answered = bool(
                CheckIn.objects.filter(pk=checkin.pk, state=CheckInState.SENT).update(
                    state=CheckInState.ANSWERED, answered_at=now
                )
            )
            prompts_close(enrolment)  # the text of a "both" check-in needs no answer any more
    entry.confirmation = care_text(
        CONFIRMED,
        language,
        {},
        readings=", ".join(reading_words(r, language) for r in entry.readings),
        when=when_text(now.astimezone(patient.zone), language),
    )
    entry.critical = any(r.severity == Severity.CRITICAL for r in entry.readings)
    if entry.critical:
        entry.on_call_told = on_call_told_of_critical(patient)
        entry.advice = critical_advice(patient=patient, told=entry.on_call_told, language=language)
    return entry
