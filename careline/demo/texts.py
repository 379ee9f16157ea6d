"""Wording for the demo clinic's notes, alerts and caregivers (made up; no real people or cases)."""

from __future__ import annotations

import random

from careline.patients.models import Language, NoteKind, Patient

NICKNAMES = {
    "Katherine": "Kate",
    "Elizabeth": "Liz",
    "William": "Will",
    "Robert": "Bob",
    "Jennifer": "Jen",
    "Michael": "Mike",
    "Christopher": "Chris",
    "Alexander": "Alex",
    "Margaret": "Maggie",
    "Daniel": "Dan",
    "Jessica": "Jess",
    "Joseph": "Joe",
    "Patricia": "Pat",
    "Samantha": "Sam",
    "Nicholas": "Nick",
    "Francisco": "Paco",
    "José": "Pepe",
    "Guadalupe": "Lupe",
    "Alejandro": "Alex",
    "Ignacio": "Nacho",
    "Dolores": "Lola",
    "Enrique": "Quique",
    "Mercedes": "Meche",
    "Eduardo": "Lalo",
    "Rosario": "Charo",
}

CAREGIVER_RELATIONSHIPS = {
    "minor": ("mother", "father", "legal guardian", "grandmother"),
    "senior": ("daughter", "son", "spouse", "niece", "legal guardian"),
}

ALERTS = (
    ("allergy", "Latex allergy: use nitrile gloves"),
    ("allergy", "Penicillin allergy"),
    ("allergy", "Severe peanut allergy: EpiPen in bag"),
    ("hard_of_hearing", "Hard of hearing: face the patient and speak clearly"),
    ("mobility", "Wheelchair user: book a ground-floor room"),
    ("mobility", "Needs help with transfers; allow extra time"),
    ("prefers_text", "Prefers text messages over calls"),
    ("other", "Ask for the guardian before discussing care"),
    ("other", "Anxious about needles: explain each step first"),
)

NOTE_AMENDMENTS = (
    ("Correction: follow-up is in the afternoon, not the morning.", "Corrected time"),
    ("Update: patient confirmed by phone.", "Added outcome"),
    ("Addendum: caregiver was present and agreed with the plan.", "Added detail"),
    ("Correction: pharmacy is the one on Main Street.", "Corrected pharmacy"),
)

_HANDOFF = (
    "Called back about the referral; left a voicemail. Try again after 2 pm.",
    "Waiting on prior authorization for the MRI; check the fax first thing tomorrow.",
    "Lab results pending; doctor to review before anyone calls the patient.",
    "Refill request sent to the pharmacy on file; confirm pickup with the patient.",
    "Patient will arrive late tomorrow; ride arranged by family.",
    "Needs a follow-up slot next week; none free yet. Offer the first cancellation.",
    "Forms from the school are on the front desk; patient picks them up Friday.",
    "Insurance eligibility did not verify; ask for the new card at check-in.",
)
_CLINICAL = (
    "BP {sys}/{dia}, HR {hr}. Continue current medication; recheck in {weeks} weeks.",
    "A1c {a1c}%. Discussed diet and activity; referral to nutrition offered.",
    "Flu vaccine given, left deltoid. No reaction after 15 minutes.",
    "Follow-up for low back pain: improving with physical therapy. Continue home exercises.",
    "Well-child visit: growth on curve, vaccines up to date.",
    "Cough for {days} days, lungs clear, no fever. Supportive care; return if worse.",
    "Medication review: stopped duplicate antihistamine. Updated list given to patient.",
)
_COMMUNICATION = (
    "Patient asked to move the appointment to an afternoon.",
    "Confirmed the new mobile number by phone.",
    "Spoke with the caregiver on file about transport to the next visit.",
    "Sent a portal message with the visit instructions.",
    "Left a message asking the patient to call back about scheduling.",
    "Patient asked for reminders by text only.",
)
_COMMUNICATION_ES = (
    "Patient prefers calls and texts in Spanish; interpreter booked for the next visit.",
    "Explained the visit instructions in Spanish by phone.",
)
_BILLING = (
    "Insurance card updated; new member ID on file.",
    "Payment plan agreed: ${amount} a month.",
    "Statement returned by mail; address confirmed and corrected.",
    "Copay collected at check-in.",
    "Asked for an itemised bill; sent by mail.",
)
_OTHER = (
    "Brought records from the previous clinic; scanned into the chart.",
    "Asked for a copy of the immunization record; ready at the front desk.",
    "Lost and found: reading glasses left in room 3.",
)


def note_text(kind: str, patient: Patient, rng: random.Random) -> str:
    """A plausible care note of KIND for PATIENT."""
    if kind == NoteKind.CLINICAL:
        return rng.choice(_CLINICAL).format(
            sys=rng.randint(105, 150),
            dia=rng.randint(65, 95),
            hr=rng.randint(58, 96),
            weeks=rng.choice((2, 4, 6)),
            a1c=round(rng.uniform(5.4, 9.2), 1),
            days=rng.randint(3, 14),
        )
    if kind == NoteKind.HANDOFF:
        return rng.choice(_HANDOFF)
    if kind == NoteKind.COMMUNICATION:
        options = _COMMUNICATION + (_COMMUNICATION_ES if patient.language == Language.SPANISH else ())
        return rng.choice(options)
    if kind == NoteKind.BILLING:
        return rng.choice(_BILLING).format(amount=rng.choice((25, 40, 50, 75, 100)))
    return rng.choice(_OTHER)
