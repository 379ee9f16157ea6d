"""What care announces (ids and minimal facts, never a value): readings, alerts opened and escalated.

The on-call line (careline/oncall) pages the clinician on call from `CareAlertOpened` (critical) and
`CareAlertEscalated`; care never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from careline.core.events import Event


@dataclass(frozen=True, kw_only=True)
class ReadingRecorded(Event):
    reading_id: int
    patient_id: int
    measure: str
    severity: str


@dataclass(frozen=True, kw_only=True)
class CareAlertOpened(Event):
    alert_id: int
    patient_id: int
    location_id: int
    severity: str


@dataclass(frozen=True, kw_only=True)
class CareAlertEscalated(Event):
    alert_id: int
    patient_id: int
    location_id: int
    severity: str
