"""The audit trail in plain language: names, sentences and links; filters by patient name or MRN, staff
member, kind of actor, action and dates; a page past the last one says so; reading the trail is recorded."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from careline.accounts.services import api_token_create
from careline.core.actor import Actor
from careline.core.audit import audit_record
from careline.core.models import AuditAction, AuditChannel, AuditEntry
from careline.core.tests.test_audit_pages import export_rows

pytestmark = pytest.mark.django_db

LIST = reverse("audit:list")
EXPORT = reverse("audit:export")
DAY = {"date_from": "2025-03-01", "date_to": "2025-03-01"}


def _text(response) -> str:
    """The results section as a person reads it: tags dropped, spaces squeezed."""
    html = response.content.decode()
    section = html[html.index('id="audit-results"') :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", section))


@pytest.fixture
def day(personas):
    """One day of the trail with every kind of actor and a few kinds of object."""
    pat, quinn = personas.pat, personas.quinn
    token, _ = api_token_create(user=personas.front_a, name="EHR sync", actor=Actor.staff(personas.admin))
    with time_machine.travel(datetime(2025, 3, 1, 15, 0, tzinfo=UTC), tick=False):
        staff = Actor.staff(personas.front_a)
        audit_record(action=AuditAction.LOGIN, actor=staff, obj=personas.front_a)
        audit_record(action=AuditAction.VIEW, actor=staff, obj=pat, patient_id=pat.pk, detail="patient page")
        audit_record(
            action=AuditAction.VIEW,
            actor=staff,
            object_type="messaging.conversation",
            object_id=42,
            patient_id=pat.pk,
            detail="conversation",
        )
        audit_record(
            action=AuditAction.EXPORT, actor=Actor.staff(personas.admin), object_type="core.auditentry"
        )
        audit_record(action=AuditAction.SEARCH, actor=Actor.api(token), object_type="patients.patient")
        audit_record(
            action=AuditAction.UPDATE,
            actor=Actor.system("reminder-sweep"),
            object_type="scheduling.appointment",
            object_id=7,
            patient_id=quinn.pk,
            detail="reminders sent",
        )
        audit_record(action=AuditAction.VIEW, actor=Actor.patient(quinn.pk), obj=quinn, patient_id=quinn.pk)
        audit_record(
            action=AuditAction.VIEW,
            actor=Actor.caregiver(personas.pat_caregiver.pk, patient_id=pat.pk),
            object_type="scheduling.appointment",
            object_id=8,
            patient_id=pat.pk,
        )
        audit_record(action=AuditAction.ADMIN, actor=Actor.staff(personas.admin), obj=personas.front_b)
    return personas


def test_each_entry_reads_as_a_sentence_with_names(day, client_for):
    text = _text(client_for(day.admin).get(LIST, DAY))
    for sentence in (
        "Frankie Front signed in",
        "Frankie Front viewed Pat Ortega’s record",
        "Frankie Front viewed Pat Ortega’s conversation",
        "Ada Admin exported the audit trail",
        "API client “EHR sync” (token of Frankie Front) searched patients",
        "System job “reminder sweep” changed Quinn Baker’s appointment",
        "Patient Quinn Baker viewed Quinn Baker’s record",
        "Caregiver Sam Ortega for Pat Ortega viewed Pat Ortega’s appointment",
        "Ada Admin changed staff account Blair Front",
    ):
        assert sentence in text, sentence
    assert "reminders sent" in text  # the detail stays, under the sentence
    assert "API client" in text and "Caregiver" in text and "System" in text  # kinds shown as badges too


def test_sentences_link_the_patient_and_the_object(day, client_for):
    html = client_for(day.admin).get(LIST, DAY).content.decode()
    patient_url = reverse("patients:detail", args=[day.pat.pk])
    assert (
        f'<a href="{patient_url}"><strong>Pat Ortega</strong></a>’s <a href="/inbox/42">conversation</a>'
        in html
    )
    assert f'<a href="{reverse("scheduling:appointment", args=[7])}">appointment</a>' in html
    assert (
        f'<a href="{reverse("accounts:staff_edit", args=[day.front_b.pk])}">staff account Blair Front</a>'
        in html
    )


def test_a_staff_members_name_leads_to_everything_they_did(day, client_for):
    client = client_for(day.admin)
    html = client.get(LIST, DAY).content.decode()
    assert f'<a href="{LIST}?actor={day.front_a.pk}"><strong>Frankie Front</strong></a> signed in' in html
    theirs = client.get(LIST, {**DAY, "actor": day.front_a.pk}).context["page"].object_list
    assert {entry.actor_id for entry in theirs} == {day.front_a.pk}


def test_a_page_of_names_costs_a_fixed_number_of_queries(day, client_for, django_assert_num_queries):
    client = client_for(day.admin)
    client.get(LIST, DAY)  # the session and the trail's own entry are on record now

    def queries_for_one_page() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST, DAY).status_code == 200
        return len(captured.captured_queries)

    few = queries_for_one_page()
    # Twice as many entries, more patients, staff, tokens and caregivers: not one query more.
    token, _ = api_token_create(user=day.clinician_a, name="Lab feed", actor=Actor.staff(day.admin))
    with time_machine.travel(datetime(2025, 3, 1, 16, 0, tzinfo=UTC), tick=False):
        for who in (day.clinician_a, day.billing_a, day.front_b):
            audit_record(
                action=AuditAction.VIEW, actor=Actor.staff(who), obj=day.quinn, patient_id=day.quinn.pk
            )
        for _ in range(6):
            audit_record(action=AuditAction.SEARCH, actor=Actor.api(token), object_type="patients.patient")
    assert queries_for_one_page() == few


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"patient": "Ortega"}, 3),  # by name: Pat's record, conversation, appointment (a caregiver's read)
        ({"patient": "Ortega, Pat"}, 3),
        ({"patient": "mrn-quinn-2"}, 2),
        ({"actor_kind": "api_client"}, 1),
        ({"actor_kind": "system"}, 1),
        ({"actor_kind": "caregiver"}, 1),
        ({"actor_kind": "patient"}, 1),
        ({"actor_kind": "staff"}, 5),
        ({"patient": "Nobody Matches"}, 0),
    ],
)
def test_filters_by_patient_name_or_mrn_and_by_kind_of_actor(day, client_for, params, expected):
    response = client_for(day.admin).get(LIST, {**DAY, **params})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == expected


def test_an_empty_result_says_nothing_matched(day, client_for):
    text = _text(client_for(day.admin).get(LIST, {**DAY, "patient": "Nobody Matches"}))
    assert "No entries match these filters." in text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2025-02-30"}, "Enter a valid date."),
        ({"date_from": "yesterday"}, "Enter a valid date."),
        ({"date_to": "1999-12-31"}, "2000"),
        ({"date_from": "2025-03-09", "date_to": "2025-03-01"}, "The end date is before the start date."),
        ({"actor_kind": "robot"}, "Select a valid choice."),
    ],
)
def test_bad_filters_give_a_clear_message(day, client_for, params, message):
    client = client_for(day.admin)
    response = client.get(LIST, params)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Correct the filters above" in response.content.decode()
    assert client.get(EXPORT, params).status_code == 400


def test_the_export_honours_the_same_filters(day, client_for):
    client = client_for(day.admin)
    rows = export_rows(client.get(EXPORT, {**DAY, "patient": "Ortega", "actor_kind": "staff"}))
    assert [row[3] for row in rows[1:]] == ["view", "view"]
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT, actor=day.admin).latest("seq")
    assert entry.object_type == "core.auditentry"
    # The typed name is patient data: the export's own entry lists the patients it matched by id.
    assert "Ortega" not in entry.detail
    assert f"patient ids={day.pat.pk}" in entry.detail and "actor_kind=staff" in entry.detail


def test_the_export_has_each_entry_as_a_sentence(day, client_for):
    rows = export_rows(client_for(day.admin).get(EXPORT, {**DAY, "actor_kind": "system"}))
    summary = rows[0].index("summary")
    assert [row[summary] for row in rows[1:]] == [
        "System job “reminder sweep” changed Quinn Baker’s appointment"
    ]


def test_a_large_export_names_its_entries_batch_by_batch(day, client_for, monkeypatch):
    from careline.core.queries import audit as audit_queries

    monkeypatch.setattr(audit_queries, "CSV_BATCH", 3)
    rows = export_rows(client_for(day.admin).get(EXPORT, DAY))
    summary = rows[0].index("summary")
    assert len(rows) == 1 + 9
    assert all(row[summary] for row in rows[1:])
    assert "Frankie Front signed in" in [row[summary] for row in rows[1:]]


def test_reading_the_trail_is_itself_on_the_trail(day, client_for):
    client = client_for(day.admin)
    client.get(LIST, {**DAY, "patient": "Ortega"})
    client.get(LIST, {**DAY, "patient": "Ortega", "page": "1"})  # the same read again: not a second entry
    reads = AuditEntry.objects.filter(action=AuditAction.VIEW, object_type="core.auditentry", actor=day.admin)
    assert reads.count() == 1
    read = reads.get()
    assert read.channel == AuditChannel.WEB
    assert "Ortega" not in read.detail and f"patient ids={day.pat.pk}" in read.detail


def test_a_refused_reader_leaves_no_read_entry(day, client_for):
    client_for(day.front_a).get(LIST)
    assert not AuditEntry.objects.filter(object_type="core.auditentry", action=AuditAction.VIEW).exists()


def test_a_page_past_the_last_says_so_with_a_link(day, client_for):
    response = client_for(day.admin).get(LIST, {**DAY, "page": "999"})
    assert response.status_code == 200
    text = _text(response)
    assert "There is nothing on page 999; the last page is 1." in text
    assert "No entries match" not in text
    assert 'href="?date_from=2025-03-01&amp;date_to=2025-03-01&amp;page=1"' in response.content.decode()


def test_the_table_stacks_on_a_phone_and_breaks_long_values(day, client_for):
    html = client_for(day.admin).get(LIST, DAY).content.decode()
    assert '<table class="audit-table">' in html and 'data-label="What happened"' in html
    assert (
        '<div class="table-wrap">' not in html.split('id="audit-results"', 1)[1]
    )  # no sideways scrolling box
