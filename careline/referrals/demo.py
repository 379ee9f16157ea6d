"""The demo clinic's referrals (called by careline/demo when it loads the clinic).

A directory of seven outside providers (counselling, a Spanish-speaking therapist, physiotherapy, cardiology,
dermatology, a food bank and a transport service) and eight referrals, one in each state and two that need a
person: one stalled for three weeks, one whose patient replied 3 ("need help"). The newest referral's check-in is
due two minutes after loading: once the sweep texts it, replying 1, 2 or 3 in the phone simulator shows the loop.
Everything goes through the services (history and audit entries are real); loading texts nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from careline.core.actor import Actor
from careline.patients.models import Patient
from careline.referrals.models import CHECKIN_STATES, OutsideProvider, ProviderKind, Referral, ReferralState
from careline.referrals.services.checkins import MAX_CHECKINS
from careline.referrals.services.referrals import referral_create, referral_set_state

PROVIDERS: tuple[dict[str, Any], ...] = (
    {"name": "Harbor Counseling Center", "kind": ProviderKind.MENTAL_HEALTH, "specialty": "Counselling",
     "services": "Individual and family counselling, telehealth", "phone": "+13125550181",
     "email": "intake@harbor.example.test", "address": "410 W Erie St, Chicago", "languages": ["en"],
     "insurance_accepted": "Medicare\nMedicaid\nBlue Cross", "takes_texts": True, "takes_email_referrals": True},
    {"name": "Clínica Esperanza Terapia", "kind": ProviderKind.MENTAL_HEALTH, "specialty": "Psychotherapy",
     "services": "Therapy in Spanish and English", "phone": "+13125550182", "address": "2200 S Blue Island Ave",
     "languages": ["es", "en"], "insurance_accepted": "Medicaid\nSliding scale", "takes_fax_referrals": True},
    {"name": "Lakeside Physiotherapy", "kind": ProviderKind.PHYSIOTHERAPY, "specialty": "Sports and spine",
     "services": "Knee, back and shoulder rehabilitation", "phone": "+13125550183", "fax": "+13125550193",
     "website": "https://lakeside-physio.example.test", "languages": ["en", "es"],
     "insurance_accepted": "Medicare\nAetna", "takes_fax_referrals": True},
    {"name": "Riverside Cardiology", "kind": ProviderKind.SPECIALIST, "specialty": "Cardiology",
     "services": "Echocardiograms, stress tests", "phone": "+13125550184", "fax": "+13125550194",
     "email": "referrals@riverside.example.test", "languages": ["en"], "insurance_accepted": "Medicare\nCigna",
     "takes_fax_referrals": True, "takes_email_referrals": True},
    {"name": "Northside Dermatology", "kind": ProviderKind.SPECIALIST, "specialty": "Dermatology",
     "phone": "+13125550185", "languages": ["en"], "takes_fax_referrals": True},
    {"name": "Greater Chicago Food Bank", "kind": ProviderKind.COMMUNITY, "specialty": "Food assistance",
     "services": "Pantries, SNAP enrolment help", "phone": "+13125550186",
     "website": "https://foodbank.example.test", "languages": ["en", "es"]},
    {"name": "RideWell Medical Transport", "kind": ProviderKind.COMMUNITY, "specialty": "Transport",
     "services": "Rides to medical appointments", "phone": "+13125550187", "languages": ["en", "es"],
     "takes_texts": True},
)  # fmt: skip

# (provider index, reason, days ago, the states it went through, needs help)
REFERRALS: tuple[tuple[int, str, int, tuple[str, ...], bool], ...] = (
    (0, "Anxiety, counselling requested", 7, (), False),  # its check-in is due in two minutes
    (2, "Knee pain after a fall, six weeks", 21, (), False),  # stalled: no change in three weeks
    (3, "Palpitations, needs an echocardiogram", 10, (ReferralState.ACKNOWLEDGED,), False),
    (1, "Low mood, prefers a Spanish-speaking therapist", 12, (ReferralState.SCHEDULED,), False),
    (5, "Food insecurity", 30, (ReferralState.SCHEDULED, ReferralState.SEEN), False),
    (4, "Changing mole on the back", 60, (ReferralState.ACKNOWLEDGED, ReferralState.SEEN, ReferralState.CLOSED),
     False),
    (2, "Shoulder rehabilitation", 20, (ReferralState.DECLINED,), False),
    (6, "Needs rides to dialysis", 9, (), True),  # replied 3: the patient needs help booking
)  # fmt: skip


def _checkins_so_far(pk: int, *, first: bool, stalled: bool, needs_help: bool, now: datetime) -> None:
    """Where each open referral's check-ins stand: the first is due in two minutes; the stalled one has had
    them all; the one that asked for help waits for staff; the others were asked once, the next in three days."""
    rows = Referral.objects.filter(pk=pk, state__in=CHECKIN_STATES)
    if first:
        rows.update(next_checkin_at=now + timedelta(minutes=2))
    elif stalled:
        rows.update(next_checkin_at=None, checkins_sent=MAX_CHECKINS)
    elif needs_help:
        rows.update(next_checkin_at=None, checkins_sent=1, needs_help=True)
    else:
        rows.update(next_checkin_at=now + timedelta(days=3), checkins_sent=1)


def referrals_seed_demo(*, patients: Sequence[Patient], clinician: Any, now: datetime) -> dict[str, int]:
    """The directory, and a referral in every state for PATIENTS (up to eight, with a mobile and consent)."""
    providers = [OutsideProvider.objects.create(**values, updated_at=now) for values in PROVIDERS]
    actor = Actor.staff(clinician)
    made = 0
    for patient, (index, reason, days_ago, states, needs_help) in zip(patients, REFERRALS, strict=False):
        start = now - timedelta(days=days_ago)
        referral = referral_create(
            patient=patient, provider=providers[index], reason=reason, consent_given=True, actor=actor,
            notify=False, now=start,
        )  # fmt: skip
        for step, state in enumerate(states, start=1):
            referral_set_state(
                referral=referral, state=state, actor=actor, now=start + timedelta(days=step * 2)
            )
        _checkins_so_far(referral.pk, first=made == 0, stalled=days_ago >= 21 and not states, needs_help=needs_help,
                         now=now)  # fmt: skip
        made += 1
    return {"referral_providers": len(providers), "referrals": made}
