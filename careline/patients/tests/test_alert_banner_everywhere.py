"""Every page about one patient shows the patient's pinned alerts: a sweep generated from the URL configuration.

A route is "about one patient" when its kwargs identify a patient (the patient, or a row that belongs to one:
an appointment, a conversation, a scheduled text...), or when it has no kwargs and `?patient=<id>` makes it
show that patient (their MRN appears only with the parameter). Each such page, fetched as the administrator,
must carry the banner with the alert's text. A new route with kwargs must be classified below, so a page
added tomorrow is covered the day it is added.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from careline.billing.models import Payment, Statement
from careline.core.actor import Actor
from careline.messaging.models import Tag
from careline.messaging.tests.h3_support import scheduled_message
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, texted_by
from careline.patients.services.notes import alert_add, note_add
from careline.scheduling.models import VisitRequest, WaitlistEntry
from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule
from careline.testing.personas import Personas
from careline.testing.urlsweep import records_rows, referral_rows

pytestmark = pytest.mark.django_db

ALERT_TEXT = "Latex gloves only (banner sweep)"

# Route prefixes (the path before its first kwarg) whose first kwarg is a row about one patient, and which.
PATIENT_PREFIXES = {
    "patients/": "patient",
    "inbox/": "conversation",
    "inbox/scheduled/": "scheduled",
    "schedule/appointments/": "appointment",
    "schedule/waitlist/": "waitlist",
    "schedule/requests/": "visit_request",
    "billing/patients/": "patient",
    "billing/appointments/": "appointment",
    "billing/payments/": "billing_payment",
    "billing/statements/": "billing_statement",
    "portal-admin/patients/": "patient",
    "records/patients/": "patient",
    "care/patients/": "patient",
    "care/alerts/": "care_alert",
    "referrals/": "referral",
    "referrals/patients/": "patient",
    "education/patients/": "patient",
}
# The other kwargs of those routes: rows of the same patient.
SECONDARY_KWARGS = {
    "caregiver_pk": "caregiver", "note_pk": "note", "alert_pk": "alert", "tag_pk": "tag",
    "allergy_pk": "allergy", "medication_pk": "medication", "problem_pk": "problem",
    "immunization_pk": "immunization", "summary_pk": "visit_summary", "document_pk": "document",
    "result_pk": "lab_result", "enrolment_pk": "care_enrolment",
}  # fmt: skip
# Routes with kwargs that do not identify one patient (or are not pages), by name.
NOT_ABOUT_ONE_PATIENT = {
    "accounts:staff_edit", "accounts:staff_mfa_reset", "accounts:staff_unlock", "accounts:api_token_revoke", "locations:edit",
    "messaging:media_public", "messaging:announcement_detail", "messaging:announcement_progress",
    "messaging:channel_create", "messaging:channel_edit", "messaging:saved_reply_edit",
    "messaging:saved_reply_delete", "messaging:policy_edit", "scheduling:type_edit", "scheduling:hours_edit",
    "scheduling:hours_delete", "scheduling:time_off_delete", "scheduling:reminder_rule_edit",
    "scheduling:reminder_rule_deactivate", "scheduling:reminder_replan_status", "patients:import_status",
    "portal_admin:invite_batch",
    # The patient portal's own page: an invitation's link, read by the patient, not staff.
    "portal:invite",
    # The test payment provider's page, read by the payer by a checkout's reference: no staff layout's banner.
    "payment-test-checkout",
    "portal_admin:faq_edit", "portal_admin:faq_delete", "portal_admin:urgent_delete",
    # The patient's own portal pages: no staff layout, so no staff banner (the portal sweep covers them).
    "portal:message_thread", "portal:message_file",
    "records:release_rule_edit",
    # The patient portal's pages (its own layout and sweep): a document and a result of the open record.
    "portal:document", "portal:result",
    # Files, not pages: an image of a conversation and an appointment's calendar file.
    "messaging:media", "scheduling:appointment_ics",
    # JSON for the calendar's grid (a dragged visit), not a page.
    "scheduling:calendar_move",
    # The portal's link for a caregiver's invitation (a token, not a patient's row; staff are not let in).
    "portal:caregiver_join",
    # A statement's pay link: the payer's own page (no staff layout), by signed token.
    "pay:page", "pay:checkout", "pay:fresh_link",
    # The on-call rota and its pages: staff and times, a page's kind and link; no patient.
    "oncall:shift_edit", "oncall:shift_delete", "oncall:page", "oncall:page_acknowledge",
    # A care program's settings; a billing import (many patients); POST-only actions on a row (not pages).
    "care:program_edit", "surveys:settings_edit", "billing:import_preview", "billing:import_apply", "billing:charge_void",
    "billing:task_assign", "billing:task_note", "billing:task_close", "billing:plan_cancel",
    "billing:dispute_resolve", "care:alert_acknowledge", "care:alert_resolve", "care:enrolment_end",
    # An outside provider of the referral directory: no patient.
    "referrals:provider_edit",
    # Outreach: an audience and a campaign list many patients; a location's birthday texts; a POST-only cancel.
    "outreach:audience", "outreach:campaign", "outreach:campaign_cancel", "outreach:birthdays",
    # A statement run: counts of many patients, none named.
    "billing:statement_run",
    # Logging a call on a care alert: a POST-only action.
    "care:alert_call",
    # The education library (clinic-wide items, a care program's items) and the recipient's signed links.
    "education:item_edit", "education:program_items", "education_public:open", "education_public:item",
    # Staff training: courses, lessons, quiz questions, protocols and assignments (no patient).
    "training:course", "training:lesson_file", "training:protocol", "training:course_edit", "training:lesson_edit",
    "training:lesson_create", "training:question_edit", "training:question_create", "training:protocol_edit",
    "training:assignment_edit",
}  # fmt: skip
# Whole namespaces of machine endpoints (JSON, provider webhooks): they render no page. The patient portal
# renders its own pages (no staff banner); its sweep (careline/portal/tests/test_portal_sweep.py) covers it.
NOT_PAGES = ("api/v1/", "webhooks/", "portal/")


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    kwargs: tuple[str, ...]


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}".strip(":") if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            path = prefix + str(entry.pattern)
            name = f"{namespace}:{entry.name}".strip(":") if entry.name else path
            yield Route(name, path, tuple(entry.pattern.converters))


def routes() -> list[Route]:
    """Every page route of the site, from the URL configuration."""
    return [r for r in _walk(get_resolver().url_patterns) if not r.path.startswith(NOT_PAGES)]


def _patient_kind(route: Route) -> str | None:
    """Which patient-owned row ROUTE's first kwarg names, or None when it names none."""
    prefix = route.path.split("<", 1)[0]
    return PATIENT_PREFIXES.get(prefix)


@pytest.fixture
def world(personas: Personas, settings: Any, tmp_path: Any) -> Iterator[dict[str, Any]]:
    """Pat with a pinned alert and one of every row a page about Pat can be addressed by."""
    settings.MEDIA_ROOT = str(tmp_path)  # the record's PDF
    with time_machine.travel(NOON_CHICAGO, tick=False):
        pat = personas.pat
        alert = alert_add(patient=pat, kind="allergy", text=ALERT_TEXT, actor=Actor.staff(personas.front_a))
        schedule = make_schedule(personas)
        conversation = texted_by(PAT_NUMBER)
        tag = Tag.objects.create(name="billing")
        conversation.tags.add(tag)
        yield {
            "patient": pat,
            "alert": alert,
            "caregiver": personas.pat_caregiver,
            "note": note_add(
                patient=pat, kind="handoff", text="Called back", actor=Actor.staff(personas.front_a)
            ),
            "conversation": conversation,
            "tag": tag,
            "scheduled": scheduled_message(pat),
            "appointment": book(schedule, at_a(personas, MONDAY, 9)),
            "waitlist": WaitlistEntry.objects.create(
                patient=pat, appointment_type=schedule.checkup, created_by=personas.front_a
            ),
            "visit_request": VisitRequest.objects.create(
                patient=pat, appointment_type=schedule.checkup, location=personas.location_a
            ),
            "billing_payment": Payment.objects.create(
                patient=pat, amount_cents=1_000, method="cash", received_at=timezone.now()
            ),
            "billing_statement": Statement.objects.create(
                patient=pat,
                statement_date=timezone.localdate(),
                due_date=timezone.localdate(),
                amount_due_cents=0,
                channel="mail",
                issued_at=timezone.now(),
            ),
            **_care_rows(personas),
            # The clinical record's rows, by kind, as objects with the row's id.
            **{
                kind: SimpleNamespace(pk=value)
                for kind, value in records_rows(pat, personas.clinician_a, "Northside").items()
            },
            "referral": SimpleNamespace(pk=referral_rows(pat, personas.clinician_a, "Northside")["referral"]),
        }


def _care_rows(personas: Personas) -> dict[str, Any]:
    """Pat enrolled in a care program, with a reading beyond its threshold and the alert it opened."""
    from decimal import Decimal

    from careline.care.models import CareAlert, Enrolment
    from careline.care.services.readings import reading_add_by_staff
    from careline.care.tests.support import enrolled

    enrolment: Enrolment = enrolled(personas.pat, personas.clinician_a)
    reading_add_by_staff(
        patient=personas.pat, measure="blood_pressure", value=Decimal(170), value2=Decimal(100),
        taken_at=timezone.now(), actor=Actor.staff(personas.clinician_a),
    )  # fmt: skip
    return {"care_enrolment": enrolment, "care_alert": CareAlert.objects.get(patient=personas.pat)}


def _url(route: Route, rows: dict[str, Any]) -> str:
    kind = _patient_kind(route)
    assert kind is not None
    values = {route.kwargs[0]: rows[kind].pk}
    values.update({name: rows[SECONDARY_KWARGS[name]].pk for name in route.kwargs[1:]})
    path = route.path
    for name, value in values.items():
        for converter in ("int", "str", "slug"):
            path = path.replace(f"<{converter}:{name}>", str(value))
    return "/" + path


def _is_page(response: Any) -> bool:
    """A full HTML page (not a redirect, a fragment for HTMX or a file)."""
    return (
        response.status_code == 200
        and response["Content-Type"].startswith("text/html")
        and b"<main" in response.content
    )


def test_every_route_with_kwargs_is_classified() -> None:
    unclassified = [
        r.name
        for r in routes()
        if r.kwargs and r.name not in NOT_ABOUT_ONE_PATIENT and _patient_kind(r) is None
    ]
    assert unclassified == [], "say whether these routes are about one patient (PATIENT_PREFIXES) or not"
    unknown = [
        (r.name, name)
        for r in routes()
        if r.kwargs and r.name not in NOT_ABOUT_ONE_PATIENT
        for name in r.kwargs[1:]
        if name not in SECONDARY_KWARGS
    ]
    assert unknown == []


def test_every_page_addressed_by_a_patients_row_shows_their_pinned_alerts(
    world: dict[str, Any], personas: Personas, client_for: Callable[[Any], Any]
) -> None:
    client = client_for(personas.admin)
    checked = []
    with time_machine.travel(NOON_CHICAGO, tick=False):
        for route in routes():
            if not route.kwargs or route.name in NOT_ABOUT_ONE_PATIENT:
                continue
            url = _url(route, world)
            response = client.get(url)
            assert response.status_code in (200, 302, 405), (route.name, url, response.status_code)
            if _is_page(response):
                checked.append(route.name)
                assert ALERT_TEXT in response.content.decode(), f"{route.name} ({url}) hides the pinned alert"
    # The sweep really reached the pages the alert must follow the patient to.
    assert {"patients:detail", "messaging:conversation", "messaging:scheduled_edit", "scheduling:appointment",
            "scheduling:move", "scheduling:cancel", "care:alert", "care:patient", "care:enrol",
            "care:reading_add", "referrals:detail", "referrals:refer"} <= set(checked)  # fmt: skip


def test_every_page_a_patient_parameter_turns_into_a_page_about_them_shows_their_alerts(
    world: dict[str, Any], personas: Personas, client_for: Callable[[Any], Any]
) -> None:
    client = client_for(personas.admin)
    pat = world["patient"]
    about_pat = []
    with time_machine.travel(NOON_CHICAGO, tick=False):
        for route in routes():
            if route.kwargs:
                continue
            url = "/" + route.path
            plain, chosen = client.get(url), client.get(f"{url}?patient={pat.pk}")
            if not (_is_page(plain) and _is_page(chosen)):
                continue
            if pat.mrn in chosen.content.decode() and pat.mrn not in plain.content.decode():
                about_pat.append(route.name)
                assert ALERT_TEXT in chosen.content.decode(), f"{route.name}?patient= hides the pinned alert"
    assert {"scheduling:book", "scheduling:series", "scheduling:waitlist"} <= set(about_pat)
