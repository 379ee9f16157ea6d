"""The patient registry, contact preferences, the consent ledger, caregivers and care notes."""

from careline.patients.models.notes import AlertKind, CareNote, NoteAmendment, NoteKind, PatientAlert
from careline.patients.models.registry import (
    Caregiver,
    Channel,
    ConsentEvent,
    ConsentKind,
    ConsentMethod,
    ContactPreference,
    Language,
    Patient,
    PatientImport,
    PatientPhone,
    PatientStatus,
    PhoneKind,
    Purpose,
    Sex,
)

__all__ = [
    "AlertKind",
    "CareNote",
    "Caregiver",
    "Channel",
    "ConsentEvent",
    "ConsentKind",
    "ConsentMethod",
    "ContactPreference",
    "Language",
    "NoteAmendment",
    "NoteKind",
    "Patient",
    "PatientAlert",
    "PatientImport",
    "PatientPhone",
    "PatientStatus",
    "PhoneKind",
    "Purpose",
    "Sex",
]
