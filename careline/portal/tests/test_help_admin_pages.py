"""The staff pages for the help chat: administrators manage FAQ entries and urgent words; nobody else may."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from careline.core.models import AuditEntry
from careline.portal.models import FaqEntry, UrgentPhrase
from careline.testing.personas import sign_in

OTHERS = ("front_a", "clinician_a", "billing_a", "front_b")


@pytest.fixture
def entry(db):
    return FaqEntry.objects.create(
        question="Where can I park?", answer="Behind the building.", keywords="car"
    )


def _urls(entry: FaqEntry, phrase: UrgentPhrase) -> list[tuple[str, str]]:
    return [
        ("get", reverse("portal_admin:faq_list")),
        ("get", reverse("portal_admin:faq_create")),
        ("get", reverse("portal_admin:faq_edit", args=[entry.pk])),
        ("post", reverse("portal_admin:faq_delete", args=[entry.pk])),
        ("get", reverse("portal_admin:urgent_list")),
        ("post", reverse("portal_admin:urgent_delete", args=[phrase.pk])),
    ]


def test_only_administrators_reach_the_pages(personas, entry, client):
    phrase = UrgentPhrase.objects.get(phrase="chest pain")
    for method, url in _urls(entry, phrase):
        anonymous = getattr(Client(), method)(url)
        assert anonymous.status_code == 302 and "/login" in anonymous["Location"], url
        for role in OTHERS:
            response = getattr(sign_in(Client(), getattr(personas, role)), method)(url)
            assert response.status_code == 403, (role, url)
    sign_in(client, personas.admin)
    for method, url in _urls(entry, phrase):
        if method == "get":
            assert client.get(url).status_code == 200, url
    assert FaqEntry.objects.filter(pk=entry.pk).exists()
    assert UrgentPhrase.objects.filter(pk=phrase.pk).exists()


def test_the_administration_menu_links_to_the_help_pages(personas, client):
    sign_in(client, personas.admin)
    page = client.get(reverse("accounts:staff_list")).content.decode()
    assert reverse("portal_admin:faq_list") in page
    sign_in(client, personas.front_a)
    page = client.get(reverse("messaging:saved_reply_list")).content.decode()
    assert reverse("portal_admin:faq_list") not in page


def test_an_administrator_adds_changes_and_removes_an_answer(personas, client):
    sign_in(client, personas.admin)
    data = {
        "language": "es",
        "question": "¿Dónde me estaciono?",
        "answer": "Detrás del edificio.\nEs gratis.",
        "keywords": " estacionamiento ,carro,, ",
        "order": "5",
        "is_active": "on",
    }
    response = client.post(reverse("portal_admin:faq_create"), data)
    assert response.status_code == 302
    created = FaqEntry.objects.get(question="¿Dónde me estaciono?")
    assert created.keywords == "estacionamiento, carro"
    assert created.answer == "Detrás del edificio.\nEs gratis."
    response = client.post(reverse("portal_admin:faq_edit", args=[created.pk]), {**data, "is_active": ""})
    assert response.status_code == 302
    created.refresh_from_db()
    assert not created.is_active
    client.post(reverse("portal_admin:faq_delete", args=[created.pk]))
    assert not FaqEntry.objects.filter(pk=created.pk).exists()
    details = list(
        AuditEntry.objects.filter(object_type="portal.faqentry", object_id=str(created.pk))
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert details == [
        "portal FAQ entry added",
        "portal FAQ entry changed: is_active",
        "portal FAQ entry removed",
    ]


def test_bad_input_is_refused_and_changes_nothing(personas, client, entry):
    sign_in(client, personas.admin)
    response = client.post(
        reverse("portal_admin:faq_edit", args=[entry.pk]),
        {"language": "xx", "question": "", "answer": "a\x00b", "order": "-1"},
    )
    assert response.status_code == 400
    entry.refresh_from_db()
    assert entry.question == "Where can I park?"
    assert client.get(reverse("portal_admin:faq_edit", args=[999999])).status_code == 404


def test_an_administrator_adds_and_removes_urgent_words(personas, client):
    sign_in(client, personas.admin)
    url = reverse("portal_admin:urgent_list")
    response = client.post(url, {"phrase": "  Passed   out ", "language": "en"})
    assert response.status_code == 302
    added = UrgentPhrase.objects.get(phrase="Passed out")
    # The same words again, in another case or with accents, are refused.
    again = client.post(url, {"phrase": "passed OUT", "language": "en"})
    assert again.status_code == 400
    assert "already on the list" in again.content.decode()
    assert client.post(url, {"phrase": "x", "language": "en"}).status_code == 400
    client.post(reverse("portal_admin:urgent_delete", args=[added.pk]))
    assert not UrgentPhrase.objects.filter(pk=added.pk).exists()
    assert AuditEntry.objects.filter(object_type="portal.urgentphrase", object_id=str(added.pk)).count() == 2


def test_the_lists_cost_a_fixed_number_of_queries(personas, client, django_assert_max_num_queries):
    for number in range(30):
        FaqEntry.objects.create(question=f"Question {number}", answer="Answer")
    sign_in(client, personas.admin)
    client.get(reverse("portal_admin:faq_list"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("portal_admin:faq_list")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("portal_admin:urgent_list")).status_code == 200
