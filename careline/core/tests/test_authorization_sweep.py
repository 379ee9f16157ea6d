"""Access proven from the URL configuration: every route x every persona, and every id swapped between locations.

ACCESS below is the one place that says who may read (GET) and who may change (POST, or the API operation's
own method) each route. A route missing from it, or an entry naming no route, fails the suite: a new page
forces a decision the day it is added. Each persona works with its own location's rows (front_b with
location B's, everyone else with A's); the id-swap sweep then hands front_b location A's URLs and front_a
location B's, and every one must be refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client

from careline.testing.personas import build_personas, sign_in
from careline.testing.urlsweep import Route, Side, World, build_world, remove_world_files, routes

ROLES = ("anonymous", "admin", "front_a", "clinician_a", "billing_a", "front_b")

Roles = frozenset[str]
EVERYONE: Roles = frozenset(ROLES)
STAFF: Roles = EVERYONE - {"anonymous"}
ADMIN: Roles = frozenset({"admin"})
FRONT: Roles = frozenset({"admin", "front_a", "front_b"})  # front desk (and the administrator)
CARE: Roles = FRONT | {"clinician_a"}  # those who edit patients and book visits
CLINICAL: Roles = frozenset({"admin", "clinician_a"})  # clinical records and results
NOBODY: Roles = frozenset()
BILLING: Roles = frozenset({"admin", "billing_a"})  # billing staff (and the administrator)
DESK_PAYMENT: Roles = FRONT | {"billing_a"}  # who takes a payment at the desk


@dataclass(frozen=True)
class Access:
    """Who may GET a route, and who may POST to it (for an API operation: who may call its own method)."""

    get: Roles
    post: Roles = NOBODY


def read(roles: Roles) -> Access:
    """A page or API read that changes nothing: POST is refused for everyone."""
    return Access(get=roles)


def action(roles: Roles) -> Access:
    """A POST-only action: GET is refused for everyone."""
    return Access(get=NOBODY, post=roles)


def form(roles: Roles) -> Access:
    """A form page: the same roles may show it and send it."""
    return Access(get=roles, post=roles)


# An inbound provider webhook: no sign-in, but a request without the provider's signature is refused (403).
SIGNED_WEBHOOK = Access(get=NOBODY, post=NOBODY)

# Whole URL prefixes decided at once: each channel type brings its own webhooks under /webhooks/<type>/.
# The patient portal: no staff member (and no signed-out visitor) reaches a page behind its sign-in; the
# portal's own sweep (careline/portal/tests/test_portal_sweep.py) decides for patients and caregivers.
PORTAL_ONLY = Access(get=NOBODY, post=NOBODY)
ACCESS_BY_PREFIX: dict[str, Access] = {"/webhooks/": SIGNED_WEBHOOK, "/portal/": PORTAL_ONLY}

ACCESS: dict[str, Access] = {
    # --- no sign-in ---
    "healthz": read(EVERYONE),
    # Prometheus metrics: the scraper's bearer token (its own test), or staff holding metrics.view (401 for a
    # signed-out visitor, 403 for staff without it).
    "metrics": read(ADMIN),
    "favicon": read(EVERYONE),  # a redirect to the static SVG icon
    "/simulator": Access(get=EVERYONE, post=EVERYONE),  # a redirect to the simulator page, which checks
    "messaging:media_public": read(EVERYONE),  # the signed, expiring link is the key (for the SMS provider)
    "scheduling:appointment_ics": read(EVERYONE),  # the signed, expiring link is the key (the patient's)
    # --- accounts ---
    "accounts:login": form(EVERYONE),
    "portal:signin": form(EVERYONE),  # the portal's sign-in page
    "portal:language": action(NOBODY),  # a POST without a language changes nothing, back to the sign-in page
    "portal:invite": form(EVERYONE),  # an invitation's link: its token is the key, the identity check follows
    "portal:code": form(
        EVERYONE
    ),  # ask for a one-time code (the answer never says whether an account exists)
    "portal:reset": form(EVERYONE),  # ask for a password reset code
    "portal:reset_password": form(EVERYONE),  # without a reset code it goes back to the reset page
    "portal:manifest": read(EVERYONE),  # the installable portal's manifest: names and icons, no patient data
    "portal:service_worker": read(EVERYONE),  # the portal's service worker script (static shell only)
    "portal:caregiver_join": read(EVERYONE),  # keeps an invitation's token in the session, then redirects
    "portal:caregiver_join_page": form(EVERYONE),  # without a valid invitation: "this link does not work"
    "accounts:logout": action(NOBODY),  # anyone may sign out; it always ends on the sign-in page
    "accounts:mfa_setup": form(STAFF),
    "accounts:mfa_verify": form(STAFF),
    "accounts:profile": form(STAFF),
    "accounts:staff_list": read(ADMIN),
    "accounts:staff_create": form(ADMIN),
    "accounts:staff_edit": form(ADMIN),
    "accounts:staff_mfa_reset": action(ADMIN),
    "accounts:staff_unlock": action(ADMIN),
    "accounts:api_tokens": form(ADMIN),
    "accounts:api_token_revoke": action(ADMIN),
    "locations:list": read(ADMIN),
    "locations:create": form(ADMIN),
    "locations:edit": form(ADMIN),
    "audit:list": read(ADMIN),
    "audit:export": read(ADMIN),
    # --- patients ---
    "patients:list": read(STAFF),
    "patients:create": form(FRONT),
    "patients:detail": read(STAFF),
    "patients:edit": form(CARE),
    "patients:phones": form(CARE),
    "patients:preferences": form(CARE),
    "patients:consent": form(CARE),
    "patients:caregiver_create": form(CARE),
    "patients:caregiver_edit": form(CARE),
    "portal_admin:caregiver_grant": form(CARE),  # a caregiver's portal access, with the patient's permission
    "portal_admin:caregiver_revoke": action(CARE),
    "patients:notes": read(STAFF),
    "patients:note_create": action(STAFF),
    "patients:note_detail": read(STAFF),
    "patients:note_amend": form(STAFF),
    "patients:alert_create": form(STAFF),
    "patients:alert_remove": action(STAFF),
    "patients:handoff": read(CARE),
    "patients:import": form(FRONT),
    "patients:import_status": read(FRONT),
    # --- the portal, staff side ---
    "portal_admin:invite": action(FRONT),
    "portal_admin:lock": action(FRONT),
    "portal_admin:unlock": action(FRONT),
    "portal_admin:sign_out": action(FRONT),
    "portal_admin:invite_bulk": form(FRONT),
    "portal_admin:invite_batch": read(FRONT),
    # --- inbox ---
    "messaging:inbox": read(STAFF),
    "nav_badge": read(STAFF),  # the navigation's counts refreshing themselves (a count, no patient data)
    "messaging:start": read(STAFF),
    "messaging:segments": action(STAFF),  # the composer's live segment count
    "messaging:simulator": form(STAFF),
    "messaging:simulator_deliver_now": action(STAFF),
    "messaging:simulator_screen": read(STAFF),
    "messaging:conversation": form(STAFF),
    "messaging:thread": read(STAFF),
    "messaging:inbox_notices": read(STAFF),  # who wrote new texts (names only), for desktop alerts
    "messaging:media": read(STAFF),
    "messaging:note_add": action(STAFF),
    "messaging:assign": action(STAFF),
    "messaging:status": action(STAFF),
    "messaging:tag_add": action(STAFF),
    "messaging:tag_remove": action(STAFF),
    "messaging:link_patient": action(STAFF),
    "messaging:opt_out": action(CARE),  # recording an opt-out is consent.record
    "messaging:dismiss": action(STAFF),
    "messaging:flag": action(STAFF),  # flag or unflag: any reader of the inbox (inbox.view)
    "messaging:mark_unread": action(STAFF),
    "messaging:announcement_list": read(FRONT),
    "messaging:announcement_new": form(FRONT),
    "messaging:announcement_detail": read(FRONT),
    "messaging:announcement_progress": read(FRONT),
    "messaging:scheduled_list": read(STAFF),
    "messaging:scheduled_edit": form(STAFF),
    "messaging:scheduled_cancel": action(STAFF),
    "messaging:channel_list": read(ADMIN),
    "messaging:channel_create": form(ADMIN),
    "messaging:channel_edit": form(ADMIN),
    "messaging:saved_reply_list": read(FRONT),
    "messaging:saved_reply_create": form(FRONT),
    "messaging:saved_reply_edit": form(FRONT),
    "messaging:saved_reply_delete": action(FRONT),
    # --- the portal help chat's configuration (administrators) ---
    "portal_admin:faq_list": read(ADMIN),
    "portal_admin:faq_create": form(ADMIN),
    "portal_admin:faq_edit": form(ADMIN),
    "portal_admin:faq_delete": action(ADMIN),
    "portal_admin:urgent_list": form(ADMIN),
    "portal_admin:urgent_delete": action(ADMIN),
    "messaging:policy_list": read(ADMIN),
    "messaging:policy_edit": form(ADMIN),
    # --- scheduling ---
    "scheduling:calendar": read(STAFF),
    "scheduling:calendar_events": read(STAFF),
    "scheduling:calendar_move": action(CARE),
    "scheduling:slots": read(STAFF),
    "scheduling:book": form(CARE),
    "scheduling:series": form(CARE),
    "scheduling:appointment": read(STAFF),
    "scheduling:move": form(CARE),
    "scheduling:cancel": form(CARE),
    "scheduling:status": action(CARE),
    "scheduling:waitlist": Access(get=STAFF, post=CARE),
    "scheduling:waitlist_remove": action(CARE),
    "scheduling:visit_requests": read(CARE),  # the reasons patients give: those who book, not billing
    "scheduling:visit_request_decline": action(CARE),
    "scheduling:type_list": read(ADMIN),
    "scheduling:type_create": form(ADMIN),
    "scheduling:type_edit": form(ADMIN),
    "scheduling:hours_list": read(ADMIN),
    "scheduling:hours_edit": form(ADMIN),
    "scheduling:hours_delete": action(ADMIN),
    "scheduling:time_off_delete": action(ADMIN),
    "scheduling:import": form(ADMIN),
    "scheduling:reminder_rule_list": read(ADMIN),
    "scheduling:reminder_rule_create": form(ADMIN),
    "scheduling:reminder_rule_edit": form(ADMIN),
    "scheduling:reminder_rule_deactivate": action(ADMIN),
    "scheduling:reminder_replan_status": read(ADMIN),
    "scheduling:reminders_report": read(FRONT),
    "scheduling:reminders_report_csv": read(FRONT),
    # --- the on-call line (the rota: those who answer the phone; editing it: administrators) ---
    "outreach:index": read(FRONT),
    "outreach:audience_create": form(FRONT),
    "outreach:audience": form(FRONT),
    "outreach:campaign": read(FRONT),
    "outreach:campaign_cancel": action(FRONT),
    "outreach:birthdays": form(FRONT),
    "oncall:rota": read(CARE),
    "oncall:shift_create": form(ADMIN),
    "oncall:shift_edit": form(ADMIN),
    "oncall:shift_delete": action(ADMIN),
    "oncall:pages": read(CARE),
    "oncall:page": read(CARE),
    "oncall:page_acknowledge": action(CLINICAL),
    # --- billing ---
    "billing:ledger": read(BILLING),
    "billing:payment_record": form(DESK_PAYMENT),  # the front desk sees the balance due only
    "billing:adjust": action(BILLING),
    "billing:refund": action(BILLING),
    "billing:self_pay": action(ADMIN),
    "billing:charge_void": action(BILLING),
    "billing:import": form(BILLING),
    "billing:import_preview": read(BILLING),
    "billing:import_apply": action(BILLING),
    "billing:statement_issue": form(BILLING),  # the preview, and issuing it
    "billing:guarantor": form(BILLING),  # who pays the patient's bills, its history; set or end it
    "billing:statement": read(BILLING),
    "billing:statement_pdf": read(BILLING),
    "billing:statement_void": action(BILLING),
    "billing:statement_resend": action(BILLING),
    "billing:mail_batch": read(BILLING),  # the day's mailed statements of the user's patients
    # A statement's pay link: the signed token is the key, the payer's date of birth comes before anything.
    "pay:page": form(EVERYONE),
    "pay:checkout": action(EVERYONE),  # without the date of birth it goes back to the pay page
    "pay:fresh_link": action(EVERYONE),  # sends to the channel on file only
    "billing:receipt": read(DESK_PAYMENT),  # a payment's printable receipt
    "billing:overpayment_review": action(BILLING),  # refund the excess or keep it as credit (worklist)
    # Payment providers (/billing/providers/<code>/): webhooks refuse what they cannot verify (403); the test
    # provider's labelled test page is reached by the checkout's unguessable reference, like a hosted page.
    "payment-test-checkout": form(EVERYONE),
    "payment-test-webhook": SIGNED_WEBHOOK,
    "payment-stripe-webhook": SIGNED_WEBHOOK,
    "billing:worklist": read(BILLING),
    "billing:task_assign": action(BILLING),
    "billing:task_note": action(BILLING),
    "billing:task_close": action(BILLING),
    "billing:dashboard": read(BILLING),  # totals only, for the reader's locations
    "billing:dashboard_csv": read(BILLING),
    "billing:plan_create": action(BILLING),
    "billing:plan_cancel": action(BILLING),
    "billing:dispute_open": action(BILLING),
    "billing:dispute_resolve": action(BILLING),
    "billing:followup_steps": form(ADMIN),
    # Statement runs: BILLING_CONFIGURE (administrators; billing staff only if a role grants it), counts only.
    "billing:statement_runs": form(ADMIN),
    "billing:statement_run": read(ADMIN),
    # --- care after discharge (readings are clinical: clinicians and administrators) ---
    "care:worklist": read(CLINICAL),
    "care:alert": form(CLINICAL),
    "care:alert_trend": read(CLINICAL),  # a worklist row's trend (HTMX fragment)
    "care:alert_acknowledge": action(CLINICAL),
    "care:alert_resolve": action(CLINICAL),
    "care:alert_call": action(CLINICAL),
    "care:patient": read(CLINICAL),
    "care:enrol": form(CLINICAL),
    "care:reading_add": form(CLINICAL),
    "care:enrolment_end": action(CLINICAL),
    "care:enrol_bulk": form(CLINICAL),
    "care:programs": read(ADMIN),
    "care:program_edit": form(ADMIN),
    # --- referrals (following up: those at the patient's location who book; referring: clinicians) ---
    "referrals:worklist": read(CARE),
    "referrals:detail": read(CARE),
    "referrals:state": action(CARE),
    "referrals:refer": form(CLINICAL),
    "referrals:providers": read(CARE),  # the directory: no patient data, every location's staff who refer
    "referrals:provider_create": form(ADMIN),
    "referrals:provider_edit": form(ADMIN),
    # --- post-visit surveys and the service report ---
    "surveys:results": read(FRONT),
    "surveys:results_csv": read(FRONT),
    "surveys:service": read(FRONT),
    "surveys:service_csv": read(FRONT),
    "surveys:settings_list": read(ADMIN),
    "surveys:settings_edit": form(ADMIN),
    "surveys:answer": Access(
        get=NOBODY, post=NOBODY
    ),  # the emailed survey's page: 404 without its signed link
    # --- caregiver education (the library is clinic-wide; sending is the desk's and clinicians') ---
    "education:library": read(STAFF),
    "education:item_create": form(CLINICAL),
    "education:item_edit": form(CLINICAL),
    "education:send": form(CARE),
    "education:programs": read(CLINICAL),
    "education:program_items": form(CLINICAL),
    "education_public:open": read(EVERYONE),  # the signed texted link is the key (counts an open)
    "education_public:item": read(EVERYONE),  # the signed item link: the item only, no patient data
    # --- staff training (every staff member takes it; managing it: training.manage, administrators) ---
    "training:mine": read(STAFF),
    "training:course": form(STAFF),
    "training:lesson_file": read(STAFF),
    "training:protocol": form(STAFF),
    "training:dashboard": read(ADMIN),
    "training:export": read(ADMIN),
    "training:manage": read(ADMIN),
    **{
        f"training:{kind}_{verb}": form(ADMIN)
        for kind in ("course", "lesson", "question", "protocol", "assignment")
        for verb in ("create", "edit")
    },
    # --- records (clinical: clinicians and administrators) ---
    "records:patient": read(CLINICAL),
    "records:document_add": form(CLINICAL),
    "records:document": form(CLINICAL),
    "records:document_file": read(CLINICAL),
    "records:result_add": form(CLINICAL),
    "records:result": form(CLINICAL),
    "records:result_release": action(CLINICAL),
    "records:results_release_normal": action(CLINICAL),
    "records:release_rules": form(ADMIN),
    "records:release_rule_edit": form(ADMIN),
    **{
        f"records:{kind}{suffix}": form(CLINICAL)
        for kind in ("allergies", "medications", "problems", "immunizations", "visit_summaries")
        for suffix in ("", "_add")
    },
    # --- API (bearer tokens; the operation's own method) ---
    "api:api-root": read(NOBODY),
    # The schema and its docs page: a signed-in staff session or an active token (README, API).
    "api:openapi-json": read(STAFF),
    "api:openapi-view": read(STAFF),
    "api:patient_list_api": read(STAFF),
    "api:patient_create_api": action(FRONT),
    "api:patient_detail_api": read(STAFF),
    "api:patient_update_api": action(CARE),
    "api:message_list_api": read(STAFF),
    "api:message_create_api": action(STAFF),
    "api:appointment_list_api": read(STAFF),
    "api:appointment_create_api": action(CARE),
    "api:appointment_detail_api": read(STAFF),
    "api:appointment_update_api": action(CARE),
    "api:appointment_cancel_api": action(CARE),
    "api:slot_list_api": read(STAFF),
    "api:billing_import_api": action(BILLING),
    "api:billing_balance_api": read(BILLING),
    "api:billing_ledger_api": read(BILLING),
}

# Query strings (GET) or bodies (POST, PATCH) a route needs to reach its authorization check, filled from
# the persona's location: ids in them are swapped like ids in the path.
NEXT_MONDAY_UTC = "2031-01-13T17:00:00Z"  # 11:00 at A (Chicago), 09:00 at B (Los Angeles), in working hours
REQUESTS: dict[str, Callable[[Side], dict[str, Any]]] = {
    # Lists and searches filtered by a location, patient or name.
    "patients:list": lambda s: {"q": s.values["patient_last_name"]},
    "patients:handoff": lambda s: {"location": s.location.pk},
    "messaging:inbox": lambda s: {"q": s.values["patient_last_name"], "status": "all"},
    "nav_badge": lambda s: {"name": "inbox"},
    "messaging:flag": lambda s: {"action": "flag"},
    "scheduling:calendar": lambda s: {"location": s.location.pk, "date": "2031-01-06"},
    "scheduling:calendar_events": lambda s: {
        "location": s.location.pk,
        "start": "2031-01-06",
        "end": "2031-01-07",
        "view": "day",
    },
    "scheduling:slots": lambda s: {
        "appointment_type": s.values["appointment_type"],
        "location": s.location.pk,
        "date_from": "2031-01-13",
        "date_to": "2031-01-14",
    },
    "scheduling:book": lambda s: {"patient": s.values["patient"]},
    "scheduling:series": lambda s: {"patient": s.values["patient"]},
    "scheduling:waitlist": lambda s: {"patient": s.values["patient"]},
    "scheduling:visit_requests": lambda s: {"location": s.location.pk},
    "scheduling:reminders_report": lambda s: {"location": s.location.pk},
    "scheduling:reminders_report_csv": lambda s: {"location": s.location.pk},
    "surveys:results": lambda s: {"location": s.location.pk},
    "surveys:results_csv": lambda s: {"location": s.location.pk},
    "surveys:service": lambda s: {"location": s.location.pk},
    "surveys:service_csv": lambda s: {"location": s.location.pk},
    "oncall:rota": lambda s: {"location": s.location.pk},
    # Pages that need a parameter to reach their authorization check.
    "messaging:start": lambda s: {"patient": s.values["patient"]},
    "messaging:simulator": lambda s: {"number": s.values["phone_number"]},
    "messaging:simulator_screen": lambda s: {"number": s.values["phone_number"]},
    "api:message_list_api": lambda s: {"patient_id": s.values["patient"]},
    "api:appointment_list_api": lambda s: {"patient_id": s.values["patient"], "location_id": s.location.pk},
    "api:slot_list_api": lambda s: {
        "appointment_type_id": s.values["appointment_type"],
        "location_id": s.location.pk,
        "from": "2031-01-13T00:00:00Z",
        "to": "2031-01-15T00:00:00Z",
    },
    "api:patient_create_api": lambda s: {
        "legal_first_name": "Robin",
        "legal_last_name": "Sweep",
        "date_of_birth": "1990-02-03",
        "primary_location_id": s.location.pk,
        "phones": [],
    },
    "api:message_create_api": lambda s: {"patient_id": s.values["patient"], "body": "Your visit is Monday."},
    "api:appointment_create_api": lambda s: {
        "patient_id": s.values["patient"],
        "clinician_id": s.values["clinician"],
        "location_id": s.location.pk,
        "appointment_type_id": s.values["appointment_type"],
        "starts_at": NEXT_MONDAY_UTC,
    },
    "api:appointment_update_api": lambda s: {"starts_at": "2031-01-06T18:00:00Z"},
    "api:appointment_cancel_api": lambda s: {"reason": "Feeling better"},
    "api:billing_import_api": lambda s: {"charges": []},
}

ROUTES = routes()
LOGIN_URL = resolve_url(settings.LOGIN_URL)
PORTAL_SIGNIN_URL = resolve_url("portal:signin")


# --- the world, built once for the module and rolled back at its end -----------------------------------


@dataclass
class Sweep:
    world: World
    sessions: dict[str, str]  # role -> session key of a signed-in session


@pytest.fixture(scope="module")
def sweep(django_db_setup: None, django_db_blocker: Any) -> Iterator[Sweep]:
    """Personas, rows of every kind at both locations, tokens and sessions; one transaction, rolled back."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        world = build_world(build_personas())
        sessions = {}
        for role, user in world.personas.staff.items():
            signed_in = sign_in(Client(), user)
            sessions[role] = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    try:
        yield Sweep(world, sessions)
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            remove_world_files(world)


def _client(sweep: Sweep, role: str, route: Route) -> Client:
    """ROLE's client: a bearer token for the API, a signed-in session for pages; nothing for anonymous."""
    client = Client(raise_request_exception=False)
    if role == "anonymous":
        return client
    if route.is_api:
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {sweep.world.tokens[role]}"
    else:
        client.cookies[settings.SESSION_COOKIE_NAME] = sweep.sessions[role]
    return client


def _methods(route: Route) -> list[str]:
    return sorted(route.methods) if route.is_api else ["GET", "POST"]


def _send(client: Client, route: Route, url: str, method: str, data: dict[str, Any] | None) -> HttpResponse:
    """One request, rolled back afterwards so that what one persona changed never meets the next.

    DATA is the query string of a GET and the JSON body of an API write; a page's POST is sent empty.
    """
    with transaction.atomic():
        if method == "GET":
            response = client.get(url, data or {})
        elif route.is_api:
            body = json.dumps(data if data is not None else {})
            response = client.generic(method, url, body, content_type="application/json")
        else:
            response = client.post(url, {})
        transaction.set_rollback(True)
    return response  # type: ignore[return-value]


def _refused(response: HttpResponse) -> bool:
    """Refused: not signed in, forbidden, not found, or not a method this route takes."""
    if response.status_code in (401, 403, 404, 405):
        return True
    return response.status_code == 302 and response["Location"].startswith((LOGIN_URL, PORTAL_SIGNIN_URL))


def _describe(role: str, method: str, url: str, response: HttpResponse) -> str:
    where = f" -> {response['Location']}" if response.has_header("Location") else ""
    return f"{role} {method} {url}: {response.status_code}{where}"


# --- the table matches the URL configuration -------------------------------------------------------------


def access_for(route: Route) -> Access | None:
    """The table's decision for ROUTE: its own entry, else its prefix's."""
    if route.key in ACCESS:
        return ACCESS[route.key]
    return next(
        (access for prefix, access in ACCESS_BY_PREFIX.items() if route.pattern.startswith(prefix)), None
    )


def test_every_route_has_an_access_decision_and_every_decision_a_route() -> None:
    keys = {route.key for route in ROUTES}
    undecided = sorted(route.key for route in ROUTES if access_for(route) is None)
    assert undecided == [], "routes without an entry in ACCESS: decide who may use them"
    assert sorted(set(ACCESS) - keys) == [], "ACCESS entries that name no route: remove or rename them"
    assert all(any(route.pattern.startswith(prefix) for route in ROUTES) for prefix in ACCESS_BY_PREFIX)
    assert sorted(set(REQUESTS) - keys) == []


def test_the_walker_finds_pages_api_operations_and_their_methods() -> None:
    by_key = {route.key: route for route in ROUTES}
    assert by_key["patients:detail"].kinds == {"pk": "patient"}
    assert not by_key["patients:detail"].is_api
    assert by_key["api:patient_update_api"].methods == {"PATCH"}
    assert by_key["api:patient_detail_api"].methods == {"GET"}
    assert by_key["api:patient_detail_api"].pattern == by_key["api:patient_update_api"].pattern
    assert by_key["patients:caregiver_edit"].kinds == {"pk": "patient", "caregiver_pk": "caregiver"}
    assert not by_key["scheduling:appointment_ics"].takes_object_id


def test_every_route_argument_has_a_row_in_the_world() -> None:
    from careline.testing.urlsweep import KWARG_KINDS

    kinds = {kind for route in ROUTES for kind in route.kinds.values()}  # raises for an unknown argument
    assert kinds == set(KWARG_KINDS.values())


def test_an_unknown_route_argument_names_the_fix() -> None:
    from careline.testing.urlsweep import kwarg_kind

    with pytest.raises(LookupError, match=r"add \('widgets', 'pk'\) to KWARG_KINDS"):
        kwarg_kind("/widgets/<int:pk>", "pk")


# --- every route x every persona -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.key)
def test_each_persona_gets_what_the_table_says(sweep: Sweep, route: Route) -> None:
    access = access_for(route)
    assert access is not None, f"{route.pattern} ({route.key}) has no entry in ACCESS"
    wrong = []
    for role in ROLES:
        side = sweep.world.side_of(role)
        url = sweep.world.url(route, side)
        data = REQUESTS[route.key](side) if route.key in REQUESTS else None
        client = _client(sweep, role, route)
        for method in _methods(route):
            allowed = role in (access.get if method == "GET" else access.post)
            response = _send(client, route, url, method, data)
            if response.status_code >= 500 or allowed == _refused(response):
                wrong.append(
                    f"{_describe(role, method, url, response)} (table: {'may' if allowed else 'may not'})"
                )
            if route.is_api and method != "GET":
                # An empty body is refused or answered with field errors, never a crash.
                empty = _send(client, route, url, method, {})
                if empty.status_code >= 500:
                    wrong.append(_describe(role, method, url, empty) + " with an empty body")
    assert not wrong, "\n".join(wrong)


# --- ids swapped between locations -----------------------------------------------------------------------

# Portal routes answer staff with the portal's sign-in whatever the id; the portal's own sweep
# (careline/portal/tests/test_portal_sweep.py) swaps their ids between patients.
SWAPPED = [
    route
    for route in ROUTES
    if (route.takes_object_id or route.key in REQUESTS) and not route.pattern.startswith("/portal/")
]
# Lists and searches may answer another location's filter with 200 (ignored or emptied) or 400 (not a
# choice), but never with its rows;
# these show the persona's own patient for their own filter, which proves the check below can see a leak.
LISTS_SHOWING_THE_PATIENT = {
    "patients:list", "patients:handoff", "messaging:inbox", "scheduling:calendar_events",
    "scheduling:book", "scheduling:series", "scheduling:waitlist", "scheduling:visit_requests",
}  # fmt: skip


def _shows(response: HttpResponse, side: Side) -> list[str]:
    """Which of SIDE's patient markers (MRN, name) the response shows."""
    if response.streaming:
        return []
    content = response.content.decode(errors="replace")
    return [marker for marker in side.values["patient_markers"] if marker in content]


def test_the_swap_sweep_covers_every_route_that_names_a_row() -> None:
    keys = {route.key for route in SWAPPED}
    assert {"patients:detail", "messaging:conversation", "api:patient_detail_api", "messaging:start"} <= keys
    assert keys >= LISTS_SHOWING_THE_PATIENT
    assert "scheduling:appointment_ics" not in keys  # a signed link, not an id
    assert len(SWAPPED) > 50


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(LISTS_SHOWING_THE_PATIENT))
def test_lists_show_the_personas_own_patient(sweep: Sweep, key: str) -> None:
    route = next(route for route in ROUTES if route.key == key)
    world = sweep.world
    response = _send(
        _client(sweep, "front_a", route), route, world.url(route, world.a), "GET", REQUESTS[key](world.a)
    )
    assert response.status_code == 200
    assert _shows(response, world.a)


@pytest.mark.django_db
@pytest.mark.parametrize("route", SWAPPED, ids=lambda route: route.key)
def test_another_locations_rows_are_refused(sweep: Sweep, route: Route) -> None:
    world = sweep.world
    access = access_for(route)
    assert access is not None
    wrong = []
    for role, other in (("front_b", world.a), ("front_a", world.b)):
        url = world.url(route, other)
        data = REQUESTS[route.key](other) if route.key in REQUESTS else None
        client = _client(sweep, role, route)
        for method in _methods(route):
            if method != "GET" and not access.post:
                continue  # nobody may change anything here; the persona sweep proves POST is refused
            if method != "GET" and not route.is_api and not route.takes_object_id:
                continue  # a page's POST is sent empty: no id of the other location in it
            response = _send(client, route, url, method, data)
            if method == "GET" and response.status_code in (403, 404, 405):
                continue
            if route.pattern.startswith("/portal/") and _refused(response):
                continue  # staff never reach the portal: its own sweep swaps ids between patients
            if method != "GET" and response.status_code in (403, 404):
                continue
            if method == "GET" and not route.takes_object_id and response.status_code in (200, 400):
                leaked = _shows(response, other)
                if not leaked:
                    continue
                wrong.append(f"{_describe(role, method, url, response)} shows {leaked}")
                continue
            wrong.append(_describe(role, method, url, response))
    assert not wrong, "\n".join(wrong)


# --- another location's id inside a request to one's own row ---------------------------------------------


@dataclass(frozen=True)
class BodySwap:
    """A write to the persona's own location whose body names TARGET's rows: refused unless TARGET is own."""

    key: str
    body: Callable[[Side, Side], dict[str, Any]]  # (own side, target side) -> body
    # For actions that redirect back whether or not they acted: whether TARGET's id left no trace.
    untouched: Callable[[Side, Side], bool] | None = None


def _visit(own: Side, target: Side) -> dict[str, Any]:
    return {
        "patient": own.values["patient"], "appointment_type": target.values["appointment_type"],
        "clinician": target.values["clinician"], "location": target.location.pk, "date": "2031-01-13",
        "time": "09:30" if target is own else "09:00",
    }  # fmt: skip


def _patient_form(own: Side, target: Side) -> dict[str, Any]:
    return {
        "legal_first_name": "Robin", "legal_last_name": "Sweep", "date_of_birth": "1990-02-03", "sex": "unknown",
        "language": "en", "primary_location": target.location.pk, "phone": "+13125550177", "country": "US",
    }  # fmt: skip


def _conversation(side: Side) -> Any:
    from careline.messaging.models import Conversation

    return Conversation.objects.get(pk=side.values["conversation"])


BODY_SWAPS = [
    BodySwap("api:patient_create_api", lambda own, t: REQUESTS["api:patient_create_api"](t)),
    BodySwap("api:patient_update_api", lambda own, t: {"primary_location_id": t.location.pk}),
    BodySwap(
        "api:appointment_create_api",
        lambda own, t: {**REQUESTS["api:appointment_create_api"](t), "patient_id": own.values["patient"]},
    ),
    BodySwap(
        "api:appointment_update_api",
        lambda own, t: {
            "starts_at": NEXT_MONDAY_UTC,
            "location_id": t.location.pk,
            "clinician_id": t.values["clinician"],
        },
    ),
    BodySwap("patients:create", _patient_form),
    BodySwap("scheduling:book", _visit),
    BodySwap(
        "scheduling:move", lambda own, t: {k: v for k, v in _visit(own, t).items() if k != "appointment_type"}
    ),
    BodySwap(
        "scheduling:waitlist",
        lambda own, t: {
            "patient_id": t.values["patient"],
            "appointment_type": own.values["appointment_type"],
        },
    ),
    BodySwap(
        "messaging:announcement_new",
        lambda own, t: {
            "title": "Closed",
            "body": "Closed Monday.",
            "location": t.location.pk,
            "action": "send",
            "previewed": "1",
        },  # fmt: skip,
    ),
    BodySwap(
        "outreach:audience_create",
        lambda own, t: {
            "name": "Flu due",
            "location": t.location.pk,
            "rule": "vaccine",
            "vaccine": "Influenza",
            "months": 12,
            "weeks": 4,
        },
    ),
    BodySwap(
        "messaging:saved_reply_create",
        lambda own, t: {"title": "Hi", "body": "Hello.", "location": t.location.pk, "is_active": "on"},
    ),
    BodySwap(
        "messaging:assign",
        lambda own, t: {"assignee": t.front_desk.pk},
        untouched=lambda own, t: _conversation(own).assigned_to_id != t.front_desk.pk,
    ),
    BodySwap(
        "messaging:link_patient",
        lambda own, t: {"patient": t.values["patient"]},
        untouched=lambda own, t: _conversation(own).patient_id == own.values["patient"],
    ),
]


def _write(sweep: Sweep, role: str, swap: BodySwap, target: Side) -> tuple[HttpResponse, bool]:
    """ROLE sends SWAP's body naming TARGET's rows, rolled back; the response and whether TARGET was untouched."""
    route = next(route for route in ROUTES if route.key == swap.key)
    own = sweep.world.side_of(role)
    url, body = sweep.world.url(route, own), swap.body(own, target)
    client = _client(sweep, role, route)
    with transaction.atomic():
        if route.is_api:
            (method,) = route.methods
            response = client.generic(method, url, json.dumps(body), content_type="application/json")
        else:
            response = client.post(url, body)
        untouched = swap.untouched(own, target) if swap.untouched else True
        transaction.set_rollback(True)
    return response, untouched  # type: ignore[return-value]


def _succeeded(key: str, response: HttpResponse) -> bool:
    """An API write answers 200/201; a page's form redirects onwards (anything else shows the form again)."""
    if key.startswith("api:"):
        return response.status_code in (200, 201)
    return response.status_code == 302 and not response["Location"].startswith(LOGIN_URL)


@pytest.mark.django_db
@pytest.mark.parametrize("swap", BODY_SWAPS, ids=lambda swap: swap.key)
def test_a_body_naming_another_locations_row_is_refused(sweep: Sweep, swap: BodySwap) -> None:
    world = sweep.world
    wrong = []
    for role, own, other in (("front_a", world.a, world.b), ("front_b", world.b, world.a)):
        # The same body naming the persona's own rows succeeds: only the swapped id makes the difference.
        control, _ = _write(sweep, role, swap, own)
        if not _succeeded(swap.key, control):
            wrong.append(f"control: {role} {swap.key} with its own rows: {control.status_code}")
        response, untouched = _write(sweep, role, swap, other)
        refused = response.status_code in (400, 403, 404, 422) or (swap.untouched is not None and untouched)
        if not refused or response.status_code >= 500 or not untouched:
            wrong.append(f"{role} {swap.key} naming the other location's rows: {response.status_code}")
    assert not wrong, "\n".join(wrong)
