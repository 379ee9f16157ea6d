"""Reads for the patient panel beside an open conversation: what messaging itself shows about the patient
(the sections other features add come from `careline.messaging.panel`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from careline.core.permissions import Perm, has_perm
from careline.messaging.models import Conversation
from careline.messaging.panel import PanelContext, RenderedSection, panel_sections_for
from careline.messaging.queries.inbox import conversation_candidates_for
from careline.patients.models import CareNote, Patient, PatientAlert, Purpose
from careline.patients.queries.notes import active_alerts, recent_notes_for
from careline.patients.services.registry import CONSENT_UNKNOWN, consent_by_purpose

PANEL_NOTES = 3

# Purposes shown together when they follow the same (general) consent.
GENERAL_PURPOSES = (Purpose.APPOINTMENTS, Purpose.CARE, Purpose.GENERAL)
CONSENT_WORDS = {
    "given": ("Consented", "ok"),
    "revoked": ("Opted out", "danger"),
    "unknown": ("Unknown", "warn"),
}


@dataclass(frozen=True)
class ConsentLine:
    """The ledger's answer for one purpose (or the purposes sharing the general consent) of this number."""

    purposes: str
    state: str

    @property
    def label(self) -> str:
        return CONSENT_WORDS[self.state][0]

    @property
    def tone(self) -> str:
        return CONSENT_WORDS[self.state][1]


@dataclass
class PatientPanel:
    """Everything the panel shows; `read` names what was read, for the page's audit entry."""

    patient: Patient
    alerts: list[PatientAlert]
    consent: list[ConsentLine]
    others_on_number: list[Patient]
    may_read_notes: bool
    notes: list[CareNote]
    sections: list[RenderedSection] = field(default_factory=list)

    @property
    def read(self) -> list[str]:
        parts = ["identity", "alerts", "consent", "language", "number shared"]
        if self.may_read_notes:
            parts.append("recent care notes")
        return parts + [section.code for section in self.sections]


def number_consent(contact: str) -> list[ConsentLine]:
    """The consent of CONTACT per purpose as the ledger stores it (nothing for an email address)."""
    if not contact.startswith("+"):
        return []
    states = consent_by_purpose(contact)
    general = states.get(Purpose.GENERAL, CONSENT_UNKNOWN)
    labels = dict(Purpose.choices)
    lines = [ConsentLine(", ".join(str(labels[p]) for p in GENERAL_PURPOSES), general)]
    lines += [
        ConsentLine(str(labels[purpose]), state)
        for purpose, state in states.items()
        if purpose not in GENERAL_PURPOSES
    ]
    return lines


def patient_panel(user: Any, conversation: Conversation) -> PatientPanel | None:
    """The panel for CONVERSATION's patient as USER may see it; None when no patient is linked."""
    patient = conversation.patient
    if patient is None:
        return None
    may_read_notes = has_perm(user, Perm.NOTE_VIEW_CLINICAL)
    return PatientPanel(
        patient=patient,
        alerts=active_alerts(patient),
        consent=number_consent(conversation.contact),
        others_on_number=[
            other for other in conversation_candidates_for(user, conversation) if other.pk != patient.pk
        ],
        may_read_notes=may_read_notes,
        notes=recent_notes_for(user, patient, limit=PANEL_NOTES) if may_read_notes else [],
        sections=panel_sections_for(PanelContext(user=user, patient=patient, conversation=conversation)),
    )
