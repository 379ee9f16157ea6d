"""The portal's search: areas register sources, asked only when their section is granted, scoped to the open
record; the words never travel in the address."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from careline.core.models import ActorKind, AuditEntry
from careline.portal.access import PortalSession
from careline.portal.models import PortalSection
from careline.portal.search import SearchHit, _sources, search_source, search_words
from careline.testing.portal import portal_account_for, portal_caregiver_account, portal_sign_in

pytestmark = pytest.mark.django_db

URL = reverse("portal:search")
asked: list[tuple[int, list[str]]] = []


@pytest.fixture
def sources() -> Iterator[None]:
    saved = dict(_sources)

    @search_source(label="Results", section=PortalSection.RESULTS, order=1)
    def results(session: PortalSession, words: list[str], limit: int) -> list[SearchHit]:
        asked.append((session.patient.pk, words))
        return [SearchHit(kind="result", title=f"Result for {session.patient.first_name}", url="/portal/")]

    asked.clear()
    yield
    _sources.clear()
    _sources.update(saved)


def test_search_words_are_lower_case_and_short_words_are_dropped():
    assert search_words("  HbA1c a Glucose ") == ["hba1c", "glucose"]


def test_the_patient_finds_their_own_and_the_search_is_audited(personas, sources):
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    response = client.post(URL, {"q": "Glucose"})
    assert response.status_code == 200
    assert "Result for Pat" in response.content.decode()
    assert asked == [(personas.pat.pk, ["glucose"])]
    entry = AuditEntry.objects.filter(action="search").latest("seq")
    assert entry.actor_kind == ActorKind.PATIENT and entry.patient_id == personas.pat.pk
    assert "glucose" not in entry.detail.lower()


def test_a_caregiver_without_the_section_is_not_searched_there(personas, sources):
    client = portal_sign_in(
        Client(), portal_caregiver_account(personas.pat_caregiver, sections=["appointments"])
    )
    response = client.post(URL, {"q": "glucose"})
    assert response.status_code == 200
    assert asked == []
    assert "Nothing in your record matches" in response.content.decode()


def test_an_empty_or_one_letter_query_is_a_clear_message(personas, sources):
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    response = client.post(URL, {"q": "a"})
    assert response.status_code == 400
    assert "at least one word" in response.content.decode()
    assert asked == []


def test_the_search_box_posts_so_no_words_reach_the_address(personas):
    page = portal_sign_in(Client(), portal_account_for(personas.pat)).get(reverse("portal:home"))
    assert f'method="post" action="{URL}"' in page.content.decode()
