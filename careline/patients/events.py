"""What happens to patients' records, published by the patients services for listeners in other apps.

Payloads are ids, field names and codes, never values or clinical text: a listener that needs more reads the
rows (and audits the read). Messaging subscribes to PatientUpdated (a patient's conversations follow their
location); portal, FHIR/HL7 feeds and webhooks are meant to.
"""

from __future__ import annotations

from dataclasses import dataclass

from careline.core.events import Event


@dataclass(frozen=True, kw_only=True)
class PatientCreated(Event):
    """A patient was registered (by staff or the API: SOURCE 'registry'; by a CSV import: 'import')."""

    patient_id: int
    primary_location_id: int
    source: str


@dataclass(frozen=True, kw_only=True)
class PatientUpdated(Event):
    """A patient's record changed: FIELDS names what changed (demographic fields, 'phones', 'contact_preferences')."""

    patient_id: int
    fields: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class PatientMerged(Event):
    """A duplicate record was merged into another (declared for listeners; Careline has no merge service yet)."""

    patient_id: int
    merged_patient_id: int


@dataclass(frozen=True, kw_only=True)
class ConsentChanged(Event):
    """An entry was appended to the consent ledger: KIND given or revoked, by METHOD; PATIENT_ID when known."""

    consent_event_id: int
    patient_id: int | None
    kind: str
    method: str


PATIENT_EVENTS: tuple[type[Event], ...] = (PatientCreated, PatientUpdated, PatientMerged, ConsentChanged)
