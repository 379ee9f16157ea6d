"""The portal's Home shows the patient their own open referrals (provider and how to reach them, never the
reason), in their language, with 988 for a mental-health provider; another patient's never."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from careline.core.actor import Actor
from careline.patients.models import Patient
from careline.referrals.models import ProviderKind, ReferralState
from careline.referrals.services.referrals import referral_set_state
from careline.referrals.tests.support import MONDAY_10_CHICAGO, REASON, provider, referred
from careline.testing.personas import Personas
from careline.testing.portal import portal_account_for, portal_sign_in

pytestmark = [pytest.mark.clock(MONDAY_10_CHICAGO), pytest.mark.usefixtures("clock")]


def _home(personas: Personas, patient: Patient) -> str:
    client = portal_sign_in(Client(), portal_account_for(patient))
    return client.get(reverse("portal:home")).content.decode()


def test_a_patient_sees_their_open_referrals_without_the_reason(personas: Personas) -> None:
    referred(personas.pat, personas.clinician_a, provider(ProviderKind.MENTAL_HEALTH), notify=False)
    page = _home(personas, personas.pat)
    assert "Your referrals" in page and "Harbor Counseling" in page and "+13125550199" in page
    assert "988" in page
    assert REASON not in page and "mood" not in page


def test_another_patient_never_sees_them(personas: Personas) -> None:
    referred(personas.pat, personas.clinician_a, notify=False)
    page = _home(personas, personas.quinn)
    assert "Lakeside Physio" not in page and "Your referrals" not in page


def test_a_closed_referral_leaves_the_card_and_spanish_reads_spanish(personas: Personas) -> None:
    referral = referred(personas.pat, personas.clinician_a, notify=False)
    client = portal_sign_in(Client(), portal_account_for(personas.pat, language="es"))
    client.post(reverse("portal:language"), {"language": "es"})
    page = client.get(reverse("portal:home")).content.decode()
    assert "Sus referencias" in page and "comuníquese con ellos para hacer una cita" in page
    referral_set_state(referral=referral, state=ReferralState.CLOSED, actor=Actor.staff(personas.clinician_a))
    assert "Lakeside Physio" not in client.get(reverse("portal:home")).content.decode()
