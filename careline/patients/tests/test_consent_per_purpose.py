"""Consent for billing and marketing texts: recorded in the ledger from the consent page, apart from STOP/START."""

from __future__ import annotations

from django.urls import reverse

from careline.patients.models import ConsentEvent, ContactPreference, Purpose
from careline.patients.services.registry import CONSENT_GIVEN, consent_purpose_given, consent_state

PAT = "+13125550111"


def test_staff_record_billing_consent_on_the_consent_page_without_touching_text_consent(personas, client_for):
    client = client_for(personas.front_a)
    url = reverse("patients:consent", args=[personas.pat.pk])
    assert b"Billing texts: consent given" in client.get(url).content
    response = client.post(url, {"phone_number": PAT, "kind": "billing_given", "method": "form"})
    assert response.status_code == 302
    assert ConsentEvent.objects.latest("id").kind == "billing_given"
    assert consent_purpose_given([PAT], Purpose.BILLING) == {PAT}
    assert consent_purpose_given([PAT], Purpose.MARKETING) == frozenset()
    assert consent_state(PAT) == CONSENT_GIVEN


def test_the_consent_page_refuses_an_unknown_kind(personas, client_for):
    url = reverse("patients:consent", args=[personas.pat.pk])
    response = client_for(personas.front_a).post(
        url, {"phone_number": PAT, "kind": "billing", "method": "form"}
    )
    assert response.status_code == 400
    assert ConsentEvent.objects.count() == 1


def test_a_marketing_preference_is_saved_and_a_post_without_it_keeps_it(personas, client_for):
    client = client_for(personas.front_a)
    url = reverse("patients:preferences", args=[personas.pat.pk])
    data = {"appointments": "sms", "billing": "email", "care": "phone", "general": "sms"}
    assert client.post(url, {**data, "marketing": "email"}).status_code == 302
    assert client.post(url, data).status_code == 302
    assert ContactPreference.objects.get(patient=personas.pat, purpose="marketing").channel == "email"
    assert client.post(url, {**data, "marketing": "pigeon"}).status_code == 400
