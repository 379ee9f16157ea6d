"""The inbox's split layout and the patient panel beside an open conversation.

A conversation opened from the list swaps only the detail pane (HTMX); the same URL loaded directly renders
the whole layout. The panel shows the patient, the consent of this number per purpose, the others on the
number, notes only to those who may read clinical notes, and the sections other features register."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from careline.core.actor import Actor
from careline.messaging.panel import (
    PanelContext,
    panel_section_register,
    panel_section_unregister,
    panel_sections,
)
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, texted_by
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod, Patient, PatientPhone
from careline.patients.services.notes import alert_add, note_add
from careline.scheduling.models import Appointment, AppointmentStatus
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule

pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]

PANE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "inbox-detail"}


@pytest.fixture
def conversation(personas):
    return texted_by(PAT_NUMBER, "Can I move my visit?")


def _get(client, conversation, **headers):
    response = client.get(reverse("messaging:conversation", args=[conversation.pk]), **headers)
    assert response.status_code == 200
    return response.content.decode()


LIST_PANE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "inbox-list-lazy"}


def test_a_conversation_loaded_directly_shows_the_thread_and_the_patient_and_loads_the_list_after(
    personas, client_for, conversation
):
    html = _get(client_for(personas.front_a), conversation)
    assert f'data-conversation="{conversation.pk}"' in html  # the conversation, middle
    assert 'id="patient-panel"' in html  # the patient, right
    assert "Can I move my visit?" in html
    assert "<title>Texts with Pat Ortega · Careline</title>" in html
    # The list, left: fetched once the page is there (HTMX), a plain link to it without JavaScript.
    lazy = html.split('id="inbox-list-lazy"', 1)[1].split("</div>", 1)[0]
    assert f'hx-get="{reverse("messaging:inbox")}"' in lazy and 'hx-trigger="load"' in lazy
    assert f'<a href="{reverse("messaging:inbox")}">' in lazy
    assert "data-inbox-list" not in html


def test_the_lazy_list_pane_brings_the_filters_the_rows_and_the_badge(personas, client_for, conversation):
    html = client_for(personas.front_a).get(reverse("messaging:inbox"), **LIST_PANE).content.decode()
    assert 'id="inbox-list" data-inbox-list' in html and 'id="inbox-views"' in html
    assert 'role="search"' in html and "Pat Ortega" in html
    assert 'id="nav-badge-inbox"' in html and 'hx-swap-oob="true"' in html
    assert "<main" not in html and 'id="inbox-detail"' not in html


def test_a_conversation_loaded_directly_costs_about_what_the_pane_alone_costs(
    personas, client_for, conversation, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(personas.front_a)
    for number in range(8):
        texted_by(f"+1614555{number:04d}", "Hello")  # list rows the page no longer reads
    _get(client, conversation, **PANE)  # warm the session
    with CaptureQueriesContext(connection) as pane:
        _get(client, conversation, **PANE)
    # The page adds only its own layout (the navigation's Inbox and Visit requests badges): never the list,
    # its counts or its rows.
    with django_assert_max_num_queries(len(pane.captured_queries) + 2):
        _get(client, conversation)


def test_opening_from_the_list_swaps_only_the_conversation_and_patient_panes(
    personas, client_for, conversation
):
    html = _get(client_for(personas.front_a), conversation, **PANE)
    assert html.lstrip().startswith("<title>Texts with Pat Ortega · Careline</title>")
    assert 'id="inbox-detail"' in html and 'id="patient-panel"' in html
    assert "<main" not in html and "data-inbox-list" not in html


def test_the_list_links_open_in_the_pane_with_the_url_pushed(personas, client_for, conversation):
    html = client_for(personas.front_a).get(reverse("messaging:inbox")).content.decode()
    assert "data-inbox-list" in html and 'id="inbox-detail"' in html
    script = (Path(__file__).parents[1] / "static/messaging/inbox.js").read_text()
    assert (
        'setAttribute("hx-push-url", "true")' in script
        and 'setAttribute("hx-target", "#" + DETAIL)' in script
    )


def test_the_back_button_empties_the_pane_and_keeps_the_list(personas, client_for, conversation):
    client = client_for(personas.front_a)
    html = _get(client, conversation)
    assert 'class="pane-back button secondary" href="/inbox/"' in html
    back = client.get(reverse("messaging:inbox"), **PANE).content.decode()
    assert 'id="inbox-detail" class="inbox-detail inbox-detail-empty"' in back
    assert "data-inbox-list" not in back


def test_the_panel_shows_identity_alerts_language_and_consent_per_purpose(personas, client_for, conversation):
    pat = personas.pat
    alert_add(patient=pat, kind="allergy", text="Penicillin", actor=Actor.staff(personas.front_a))
    ConsentEvent.objects.create(
        phone_number=PAT_NUMBER,
        kind=ConsentKind.BILLING_GIVEN,
        method=ConsentMethod.STAFF,
        occurred_at=timezone.now(),
    )
    html = _get(client_for(personas.front_a), conversation)
    panel = html.split('id="patient-panel"', 1)[1].split("</section>\n\n<", 1)[0]
    assert pat.mrn in panel and "1980-04-12" in panel and "English" in panel
    assert "Allergy: Penicillin" in panel
    consent = panel.split('id="panel-consent"', 1)[1].split("</dl>", 1)[0]
    assert (
        'Appointment reminders, Care follow-up, General</dt><dd><span class="badge ok" data-consent="given">Consented'
        in consent
    )
    assert 'Billing</dt><dd><span class="badge ok" data-consent="given">Consented' in consent
    assert 'Marketing</dt><dd><span class="badge warn" data-consent="unknown">Unknown' in consent
    ConsentEvent.objects.create(
        phone_number=PAT_NUMBER,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.KEYWORD,
        occurred_at=timezone.now(),
    )
    html = _get(client_for(personas.front_a), conversation)
    consent = html.split('id="panel-consent"', 1)[1].split("</dl>", 1)[0]
    assert consent.count('data-consent="revoked">Opted out') == 3  # STOP ends every purpose's consent


def test_the_panel_names_the_other_patients_on_the_number(personas, client_for, conversation):
    sibling = Patient.objects.create(
        mrn="MRN-SIB", legal_first_name="Lucia", legal_last_name="Ortega",
        date_of_birth="2012-06-01", primary_location=personas.location_a,
    )  # fmt: skip
    PatientPhone.objects.create(patient=sibling, number=PAT_NUMBER, kind="mobile")
    html = _get(client_for(personas.front_a), conversation)
    others = html.split('id="panel-others"', 1)[1].split("</ul>", 1)[0]
    assert "Lucia Ortega" in others and "Pat Ortega" not in others


def test_care_notes_only_for_people_who_may_read_clinical_notes(personas, client_for, conversation):
    note_add(
        patient=personas.pat,
        kind="clinical",
        text="BP 150/95, recheck",
        actor=Actor.staff(personas.clinician_a),
    )
    note_add(
        patient=personas.pat, kind="handoff", text="Call back re forms", actor=Actor.staff(personas.front_a)
    )
    clinician = _get(client_for(personas.clinician_a), conversation)
    assert "BP 150/95, recheck" in clinician and "Call back re forms" in clinician
    for name in ("front_a", "billing_a"):
        html = _get(client_for(personas.staff[name]), conversation)
        assert "You don't have access to clinical notes" in html
        assert "BP 150/95" not in html and "Call back re forms" not in html


def test_the_visits_section_shows_next_and_last_visit_with_actions(personas, client_for, conversation):
    schedule = make_schedule(personas)
    upcoming = book(schedule, at_a(personas, MONDAY, 9))
    past_start = timezone.now() - timedelta(days=20)
    past = Appointment.objects.create(
        patient=personas.pat, clinician=personas.clinician_a, location=personas.location_a,
        appointment_type=schedule.checkup, starts_at=past_start, ends_at=past_start + timedelta(minutes=30),
        status=AppointmentStatus.COMPLETED,
    )  # fmt: skip
    html = _get(client_for(personas.front_a), conversation)
    visits = html.split('id="panel-visits"', 1)[1].split("</section>", 1)[0]
    assert reverse("scheduling:appointment", args=[upcoming.pk]) in visits
    assert "Mon Jan 6, 09:00" in visits  # in the location's zone, as the person reads times
    assert reverse("scheduling:status", args=[upcoming.pk]) in visits and 'value="confirm"' in visits
    assert reverse("scheduling:move", args=[upcoming.pk]) in visits
    assert reverse("scheduling:cancel", args=[upcoming.pk]) in visits
    assert reverse("scheduling:appointment", args=[past.pk]) in visits and "Completed" in visits
    # Billing sees the schedule but may not book: the visits, no actions.
    billing = _get(client_for(personas.billing_a), conversation)
    visits = billing.split('id="panel-visits"', 1)[1].split("</section>", 1)[0]
    assert reverse("scheduling:appointment", args=[upcoming.pk]) in visits
    assert reverse("scheduling:move", args=[upcoming.pk]) not in visits


def test_a_registered_section_shows_and_one_returning_none_is_left_out(
    personas, client_for, conversation, settings
):
    templates = [dict(settings.TEMPLATES[0])]
    templates[0]["DIRS"] = [*templates[0]["DIRS"], Path(__file__).parent / "templates"]
    settings.TEMPLATES = templates
    seen: list[PanelContext] = []

    def balance(panel: PanelContext) -> dict[str, str] | None:
        seen.append(panel)
        return {"amount": "$12.00"} if panel.user == personas.front_a else None

    panel_section_register(
        code="test-balance",
        title="Open balance",
        template="messaging/tests/_panel_test.html",
        context=balance,
    )
    try:
        html = _get(client_for(personas.front_a), conversation)
        assert 'id="panel-test-balance"' in html and "Open balance" in html and "Balance: $12.00" in html
        assert seen[-1].patient == personas.pat and seen[-1].conversation == conversation
        assert "Open balance" not in _get(client_for(personas.clinician_a), conversation)
    finally:
        panel_section_unregister("test-balance")


def test_section_codes_are_slugs_registered_once(personas):
    # Scheduling's and billing's, from their ready().
    assert [section.code for section in panel_sections()] == ["visits", "balance"]
    with pytest.raises(ValueError, match="already registered"):
        panel_section_register(code="visits", title="Visits", template="x.html", context=lambda panel: None)
    with pytest.raises(ValueError, match="slug"):
        panel_section_register(code="Open Balance", title="x", template="x.html", context=lambda panel: None)


def test_without_a_matched_patient_the_panel_says_so_and_offers_the_link(personas, client_for):
    sibling = Patient.objects.create(
        mrn="MRN-SIB", legal_first_name="Lucia", legal_last_name="Ortega",
        date_of_birth="2012-06-01", primary_location=personas.location_a,
    )  # fmt: skip
    PatientPhone.objects.create(patient=sibling, number=PAT_NUMBER, kind="mobile")
    conversation = texted_by(PAT_NUMBER, "Is Lucia's form ready?")
    html = _get(client_for(personas.front_a), conversation)
    panel = html.split('id="patient-panel"', 1)[1]
    assert "No patient matched" in panel
    assert reverse("messaging:link_patient", args=[conversation.pk]) in panel
    unknown = texted_by("+13125550999", "Hello?")
    assert "No patient you can see has this number on file" in _get(client_for(personas.front_a), unknown)


def test_the_conversation_offers_flag_and_mark_unread_which_work(personas, client_for, conversation):
    client = client_for(personas.front_a)
    html = _get(client, conversation)
    assert f'action="{reverse("messaging:flag", args=[conversation.pk])}"' in html
    assert f'action="{reverse("messaging:mark_unread", args=[conversation.pk])}"' in html
    response = client.post(reverse("messaging:flag", args=[conversation.pk]), {"action": "flag"})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.flagged
    assert "Remove the flag" in _get(client, conversation)
    response = client.post(
        reverse("messaging:mark_unread", args=[conversation.pk]), {"next": reverse("messaging:inbox")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("messaging:inbox")
    conversation.refresh_from_db()
    assert conversation.unread_count >= 1
