"""The inbox list: who sees which conversation, filters, search, unread counts and a constant query count."""

from __future__ import annotations

import pytest
from django.db.models import Count
from django.urls import reverse

from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.messaging.models import Conversation, Tag
from careline.messaging.queries.inbox import conversations_visible_to
from careline.messaging.queries.inbox_list import InboxFilters, inbox_conversations
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, QUINN_NUMBER, texted_by
from careline.patients.models import Patient, PatientPhone
from careline.patients.services.registry import patient_update

UNKNOWN = "+13125550999"


pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


def _ids(user, **filters) -> list[int]:
    return list(inbox_conversations(user, InboxFilters(**filters)).values_list("pk", flat=True))


def test_front_desk_sees_their_locations_and_unknown_senders_only(personas):
    pat = texted_by(PAT_NUMBER)
    quinn = texted_by(QUINN_NUMBER)
    stranger = texted_by(UNKNOWN)
    assert set(conversations_visible_to(personas.front_a)) == {pat, stranger}
    assert set(conversations_visible_to(personas.front_b)) == {quinn, stranger}
    assert set(conversations_visible_to(personas.admin)) == {pat, quinn, stranger}


def test_a_family_phone_is_visible_to_staff_who_see_one_of_its_patients(personas):
    for mrn, location in [("F1", personas.location_a), ("F2", personas.location_a)]:
        patient = Patient.objects.create(
            mrn=mrn,
            legal_first_name=mrn,
            legal_last_name="Family",
            date_of_birth="2000-01-01",
            primary_location=location,
        )
        PatientPhone.objects.create(patient=patient, number="+13125550777")
    family = texted_by("+13125550777")
    assert family.patient is None
    assert family.location is None
    assert family in conversations_visible_to(personas.front_a)
    assert family not in conversations_visible_to(personas.front_b)  # none of its patients is B's


def test_a_linked_conversation_follows_its_patients_current_location(personas):
    conversation = texted_by(PAT_NUMBER)
    patient_update(
        patient=personas.pat,
        actor=Actor.staff(personas.admin),
        changes={"primary_location": personas.location_b},
    )
    assert conversation not in conversations_visible_to(personas.front_a)
    assert conversation in conversations_visible_to(personas.front_b)


def test_filters_open_closed_mine_unassigned_location_and_tag(personas):
    pat = texted_by(PAT_NUMBER)
    quinn = texted_by(QUINN_NUMBER)
    Conversation.objects.filter(pk=quinn.pk).update(status="closed", assigned_to=personas.admin)
    pat.tags.add(Tag.objects.create(name="billing"))
    admin = personas.admin
    assert _ids(admin) == [pat.pk]
    assert _ids(admin, status="closed") == [quinn.pk]
    assert set(_ids(admin, status="")) == {pat.pk, quinn.pk}
    assert _ids(admin, status="", show="mine") == [quinn.pk]
    assert _ids(admin, status="", show="unassigned") == [pat.pk]
    assert _ids(admin, status="", location_id=personas.location_b.pk) == [quinn.pk]
    assert _ids(admin, status="", tag="billing") == [pat.pk]


def test_newest_activity_comes_first(personas, time_machine):
    pat = texted_by(PAT_NUMBER)
    time_machine.shift(60)
    stranger = texted_by(UNKNOWN)
    time_machine.shift(60)
    texted_by(PAT_NUMBER, "me again")
    assert _ids(personas.front_a) == [pat.pk, stranger.pk]


def test_search_finds_message_text_name_and_a_phone_typed_any_way(personas, client_for):
    pat = texted_by(PAT_NUMBER, "Can I get my refill early?")
    texted_by(UNKNOWN, "wrong number")
    admin = personas.admin
    assert _ids(admin, text="REFILL") == [pat.pk]
    assert _ids(admin, text="ortega") == [pat.pk]
    assert _ids(admin, text="pat ort") == [pat.pk]
    assert _ids(admin, text="(312) 555-0111") == [pat.pk]
    assert _ids(admin, text="312.555.0111") == [pat.pk]
    assert _ids(admin, text="nothing like this") == []
    response = client_for(personas.front_a).get(
        reverse("messaging:inbox"), {"q": "312 555 0111", "status": "all"}
    )
    html = response.content.decode()
    assert "Pat Ortega" in html
    assert "wrong number" not in html
    entry = AuditEntry.objects.filter(action="search", object_type="messaging.conversation").latest("id")
    assert "search=phone" in entry.detail
    assert "0111" not in entry.detail


def test_bad_filter_input_shows_the_default_list(personas, client_for):
    texted_by(PAT_NUMBER)
    response = client_for(personas.front_a).get(
        reverse("messaging:inbox"), {"location": "abc", "status": "weird", "tag": "x"}
    )
    assert response.status_code == 200
    assert "Pat Ortega" in response.content.decode()


def test_unread_counts_are_shown(personas, client_for):
    texted_by(PAT_NUMBER)
    texted_by(PAT_NUMBER, "hello?")
    html = client_for(personas.front_a).get(reverse("messaging:inbox")).content.decode()
    assert "2 unread" in html


def test_polling_the_list_returns_the_partial_and_is_audited_once_per_few_minutes(personas, client_for):
    client = client_for(personas.front_a)
    texted_by(PAT_NUMBER)
    before = AuditEntry.objects.count()
    for _ in range(3):
        response = client.get(
            reverse("messaging:inbox"), HTTP_HX_REQUEST="true", HTTP_X_CARELINE_BACKGROUND="1"
        )
        assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"Pat Ortega" in response.content
    assert AuditEntry.objects.count() == before + 1


def _many(personas, count: int, start: int) -> None:
    tag = Tag.objects.get_or_create(name="follow-up")[0]
    for i in range(start, start + count):
        patient = Patient.objects.create(
            mrn=f"M{i}",
            legal_first_name=f"P{i}",
            legal_last_name="Many",
            date_of_birth="1990-01-01",
            primary_location=personas.location_a,
        )
        number = f"+1312555{2000 + i:04d}"
        PatientPhone.objects.create(patient=patient, number=number)
        conversation = texted_by(number)
        conversation.tags.add(tag)
        Conversation.objects.filter(pk=conversation.pk).update(assigned_to=personas.front_a)


def test_the_list_costs_the_same_number_of_queries_for_3_or_40_conversations(
    personas, client_for, django_assert_num_queries
):
    """Tags, assignee, patient names and the row facts come with the page, never a query per row."""
    client = client_for(personas.front_a)
    _many(personas, 3, 0)
    client.get(reverse("messaging:inbox"))  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("messaging:inbox"), {"q": "Many"}).status_code == 200
    _many(personas, 37, 3)
    assert Conversation.objects.aggregate(n=Count("pk"))["n"] == 40
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(reverse("messaging:inbox"), {"q": "Many"})
    html = response.content.decode()
    assert html.count('id="conv-') == 40
    assert "P39 Many<" in html and "Assigned to Frankie Front" in html and "follow-up" in html
    # PostgreSQL: the audit lock; the list's version is read before its counts (reused while it is unchanged);
    # the navigation's Visit requests badge.
    assert len(small.captured_queries) <= 18, len(small.captured_queries)
