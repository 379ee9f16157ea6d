"""Every portal route, for patient A, A's caregiver without the route's section, patient B and a signed-out
visitor, with every id swapped for patient B's objects: nobody sees what is not theirs, nothing is a 500.

The table below is the one place that says what each portal route is; a route missing from it fails the
sweep the day it is added. For a route with URL arguments, `objects` makes an object of the given patient
for each argument (called once for patient A and once for patient B).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careline.core.models import ActorKind, AuditEntry
from careline.patients.models import Patient
from careline.portal.models import ALL_SECTIONS, PortalAccount, PortalInvitation, PortalSection
from careline.portal.services.invitations import token_hash
from careline.records.tests.support import document_of, released_result_of
from careline.testing.personas import Personas
from careline.testing.portal import portal_access_grant, portal_account_for, portal_sign_in
from careline.testing.urlsweep import Route, routes

pytestmark = pytest.mark.django_db

Objects = Callable[[Personas, Patient], dict[str, Any]]


@dataclass(frozen=True)
class PortalRoute:
    """What a portal route is: the section it needs (None: any signed-in account), and how to call it."""

    section: str | None = None
    public: bool = False  # reached signed out (sign-in, invitations)
    post_only: bool = False
    objects: Objects | None = None  # URL arguments naming objects of a patient
    audited: bool = False  # a GET reads the record: an entry names the patient and the portal actor


def _invitation(patient: Patient) -> str:
    """The token of a fresh invitation for PATIENT (its link's secret)."""
    token = f"sweep-{patient.pk}-{PortalInvitation.objects.count()}"
    PortalInvitation.objects.create(
        patient=patient,
        channel="sms",
        token_hash=token_hash(token),
        expires_at=timezone.now() + timedelta(hours=72),
    )
    return token


def _visit(personas: Personas, patient: Patient) -> dict[str, Any]:
    """An upcoming visit of PATIENT (so confirm, cancel and reschedule are open to them)."""
    from datetime import timedelta

    from django.utils import timezone

    from careline.scheduling.models import Appointment, AppointmentType

    kind, _ = AppointmentType.objects.get_or_create(name="Sweep checkup")
    starts = timezone.now().replace(microsecond=0) + timedelta(days=3)
    appointment = Appointment.objects.create(
        patient=patient, clinician=personas.clinician_a, location=personas.location_a, appointment_type=kind,
        starts_at=starts, ends_at=starts + timedelta(minutes=30),
    )  # fmt: skip
    return {"pk": appointment.pk}


def _visit_request(personas: Personas, patient: Patient) -> dict[str, Any]:
    from careline.scheduling.models import AppointmentType, VisitRequest

    kind, _ = AppointmentType.objects.get_or_create(name="Sweep checkup")
    return {
        "pk": VisitRequest.objects.create(
            patient=patient, appointment_type=kind, location=personas.location_a
        ).pk
    }


def _statement(personas: Personas, patient: Patient) -> dict[str, Any]:
    """A statement of PATIENT's (one per call is fine: each is its own row)."""
    from datetime import date

    from careline.billing.models import Statement

    statement = Statement.objects.create(
        patient=patient, statement_date=date(2030, 3, 4), due_date=date(2030, 4, 3), amount_due_cents=2_500,
        channel="portal", issued_at=timezone.now(),
    )  # fmt: skip
    return {"pk": statement.pk}


APPOINTMENTS = "appointments"

PORTAL_ROUTES: dict[str, PortalRoute] = {
    "portal:home": PortalRoute(audited=True),
    # --- appointments ---
    "portal:appointments": PortalRoute(section=APPOINTMENTS, audited=True),
    "portal:appointment": PortalRoute(section=APPOINTMENTS, objects=_visit, audited=True),
    "portal:appointment_confirm": PortalRoute(section=APPOINTMENTS, objects=_visit, audited=True),
    "portal:appointment_cancel": PortalRoute(section=APPOINTMENTS, objects=_visit, audited=True),
    "portal:appointment_reschedule": PortalRoute(section=APPOINTMENTS, objects=_visit, audited=True),
    "portal:appointment_ics": PortalRoute(section=APPOINTMENTS, objects=_visit, audited=True),
    "portal:visit_request": PortalRoute(section=APPOINTMENTS),
    "portal:visit_request_withdraw": PortalRoute(section=APPOINTMENTS, objects=_visit_request, audited=True),
    "portal:signin": PortalRoute(public=True),
    "portal:signout": PortalRoute(post_only=True),
    "portal:switch_record": PortalRoute(post_only=True),
    "portal:language": PortalRoute(public=True, post_only=True),
    "portal:invite": PortalRoute(
        public=True, objects=lambda personas, patient: {"token": _invitation(patient)}
    ),
    "portal:invite_setup": PortalRoute(public=True),
    "portal:code": PortalRoute(public=True),
    "portal:code_enter": PortalRoute(public=True),
    "portal:reset": PortalRoute(public=True),
    "portal:reset_password": PortalRoute(public=True),
    "portal:security": PortalRoute(),
    "portal:search": PortalRoute(),
    "portal:messages": PortalRoute(section="messages", audited=True),
    "portal:message_thread": PortalRoute(
        section="messages", objects=lambda p, patient: _thread(patient), audited=True
    ),
    "portal:message_file": PortalRoute(
        section="messages", objects=lambda p, patient: _file(patient), audited=True
    ),
    "portal:help": PortalRoute(audited=True),
    # The Profile (the account's own settings; the patient's preferences and consent are audited there).
    "portal:profile": PortalRoute(),
    "portal:profile_contact": PortalRoute(post_only=True),
    "portal:profile_password": PortalRoute(post_only=True),
    "portal:profile_language": PortalRoute(post_only=True),
    "portal:profile_preferences": PortalRoute(post_only=True),
    "portal:profile_consent": PortalRoute(post_only=True),
    "portal:signout_everywhere": PortalRoute(post_only=True),
    # Sharing one's own record with caregivers (a caregiver-only account is answered 404).
    "portal:caregivers": PortalRoute(),
    "portal:caregiver_grant": PortalRoute(post_only=True),
    "portal:caregiver_revoke": PortalRoute(post_only=True),
    # A caregiver's invitation link: its token is the key (see test_portal_caregivers.py).
    "portal:caregiver_join": PortalRoute(
        public=True, objects=lambda personas, patient: {"token": "no-such-link"}
    ),
    "portal:caregiver_join_page": PortalRoute(public=True),
    # Installing the portal: no patient data (see test_portal_install.py).
    "portal:manifest": PortalRoute(public=True),
    "portal:service_worker": PortalRoute(public=True),
    # --- billing ---
    "portal:billing": PortalRoute(section=PortalSection.BILLING, audited=True),
    "portal:statement": PortalRoute(section=PortalSection.BILLING, objects=_statement, audited=True),
    "portal:statement_file": PortalRoute(section=PortalSection.BILLING, objects=_statement, audited=True),
    # GET shows the statement (as portal:statement); POST starts the payment.
    "portal:statement_pay": PortalRoute(section=PortalSection.BILLING, objects=_statement, audited=True),
    # --- the care program (readings, check-ins) ---
    "portal:care": PortalRoute(section=PortalSection.CARE, audited=True),
    # --- records and results ---
    "portal:records": PortalRoute(section=PortalSection.RECORDS, audited=True),
    "portal:document": PortalRoute(
        section=PortalSection.RECORDS,
        objects=lambda personas, patient: {"key": document_of(patient).download_key},
        audited=True,
    ),
    "portal:results": PortalRoute(section=PortalSection.RESULTS, audited=True),
    "portal:result": PortalRoute(
        section=PortalSection.RESULTS,
        objects=lambda personas, patient: {"pk": released_result_of(patient).pk},
        audited=True,
    ),
}


def _thread(patient: Patient) -> dict[str, Any]:
    """The patient's portal conversation with the care team."""
    from careline.messaging.channels.portal.conversations import portal_conversation

    return {"pk": portal_conversation(patient=patient).pk}


def _file(patient: Patient) -> dict[str, Any]:
    """A PDF the patient sent in their portal conversation (the same one on every call)."""
    from careline.messaging.channels.portal.conversations import portal_conversation, portal_patient_message
    from careline.messaging.models import Message
    from careline.messaging.services.attachments import media_save

    conversation = portal_conversation(patient=patient)
    sent = Message.objects.filter(conversation=conversation).exclude(media=[]).first()
    if sent is None:
        file = media_save(conversation_id=conversation.pk, data=b"%PDF-1.4 sweep", extension="pdf")
        item = {"content_type": "application/pdf", "file": file, "state": "copied", "name": "scan.pdf"}
        sent = portal_patient_message(conversation=conversation, body="My scan", media=[item])
    return {"pk": conversation.pk, "name": sent.media[0]["file"].split("/", 1)[1]}


ROUTES = [route for route in routes() if route.key.startswith("portal:")]
SIGNIN = reverse("portal:signin")


@dataclass
class PortalWorld:
    personas: Personas
    own: PortalAccount  # patient A (Pat)'s own account
    caregiver_none: PortalAccount  # A's caregiver, no section granted
    caregiver_all: PortalAccount  # A's caregiver, every section granted
    other: PortalAccount  # patient B (Quinn)'s own account


@pytest.fixture
def world(personas: Personas) -> PortalWorld:
    own = portal_account_for(personas.pat)
    none = PortalAccount.objects.create(email="cg-none@family.example.test", display_name="Sam", password="x")
    portal_access_grant(none, personas.pat, sections=[], caregiver=personas.pat_caregiver)
    everything = PortalAccount.objects.create(
        email="cg-all@family.example.test", display_name="Sam", password="x"
    )
    portal_access_grant(
        everything, personas.pat, sections=list(ALL_SECTIONS), caregiver=personas.pat_caregiver
    )
    other = portal_account_for(personas.quinn, email="quinn@example.test")
    return PortalWorld(personas, own, none, everything, other)


def _url(route: Route, spec: PortalRoute, personas: Personas, patient: Patient) -> str:
    kwargs = spec.objects(personas, patient) if spec.objects else {}
    return reverse(route.key, kwargs=kwargs)


def test_every_portal_route_is_in_the_table():
    keys = {route.key for route in ROUTES}
    assert sorted(keys - set(PORTAL_ROUTES)) == [], "portal routes missing from PORTAL_ROUTES"
    assert sorted(set(PORTAL_ROUTES) - keys) == [], "PORTAL_ROUTES entries that name no route"
    assert all(PORTAL_ROUTES[route.key].objects for route in ROUTES if route.kinds), "arguments need objects"


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.key)
def test_a_signed_out_visitor_reaches_only_the_public_portal_pages(world: PortalWorld, route: Route):
    spec = PORTAL_ROUTES[route.key]
    url = _url(route, spec, world.personas, world.personas.pat)
    for method in ("get", "post"):
        response = getattr(Client(), method)(url)
        assert response.status_code < 500, f"{method} {url}: {response.status_code}"
        if spec.post_only and method == "get":
            assert response.status_code == 405, f"{method} {url}"
        elif not spec.public:
            assert response.status_code == 302 and response["Location"].startswith(SIGNIN), f"{method} {url}"


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.key)
def test_the_patient_reads_their_own_and_the_audit_trail_names_them(world: PortalWorld, route: Route):
    spec = PORTAL_ROUTES[route.key]
    if spec.public:
        pytest.skip("reached signed out; its own tests cover it")
    url = _url(route, spec, world.personas, world.personas.pat)
    client = portal_sign_in(Client(), world.own)
    before = AuditEntry.objects.count()
    response = client.get(url)
    assert response.status_code == (405 if spec.post_only else 200), f"GET {url}: {response.status_code}"
    assert "no-store" in response.get("Cache-Control", "")
    if spec.audited:
        entries = AuditEntry.objects.order_by("seq")[before:]
        assert any(
            entry.actor_kind == ActorKind.PATIENT and entry.patient_id == world.personas.pat.pk
            for entry in entries
        ), f"GET {url} wrote no audit entry naming the patient"


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.key)
def test_a_caregivers_reads_are_audited_as_the_caregiver_for_the_patient(world: PortalWorld, route: Route):
    spec = PORTAL_ROUTES[route.key]
    if spec.public or spec.post_only or not spec.audited:
        pytest.skip("reads nothing of a record")
    url = _url(route, spec, world.personas, world.personas.pat)
    before = AuditEntry.objects.count()
    assert portal_sign_in(Client(), world.caregiver_all).get(url).status_code == 200
    entries = AuditEntry.objects.order_by("seq")[before:]
    assert any(
        entry.actor_kind == ActorKind.CAREGIVER
        and entry.caregiver_id == world.personas.pat_caregiver.pk
        and entry.on_behalf_of_id == world.personas.pat.pk
        for entry in entries
    )


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if PORTAL_ROUTES[r.key].section], ids=lambda route: route.key
)
def test_a_caregiver_without_the_section_gets_not_found(world: PortalWorld, route: Route):
    spec = PORTAL_ROUTES[route.key]
    url = _url(route, spec, world.personas, world.personas.pat)
    client = portal_sign_in(Client(), world.caregiver_none)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"


@pytest.mark.parametrize("route", [r for r in ROUTES if r.kinds], ids=lambda route: route.key)
def test_another_patients_ids_are_not_found_either_way(world: PortalWorld, route: Route):
    spec = PORTAL_ROUTES[route.key]
    if spec.public:
        pytest.skip("a public link's argument is its secret, not a patient's id; its own tests cover it")
    personas = world.personas
    cases = [
        (world.own, _url(route, spec, personas, personas.quinn)),  # A asks for B's object
        (world.other, _url(route, spec, personas, personas.pat)),  # B asks for A's object
        (world.caregiver_all, _url(route, spec, personas, personas.quinn)),  # A's caregiver asks for B's
    ]
    for account, url in cases:
        client = portal_sign_in(Client(), account)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (404, 405), f"{account} {method} {url}: {response.status_code}"
