"""Every route that shows a patient's data writes an audit entry naming the patient, whatever the client sends.

The routes come from Django's URL resolver (and the API's OpenAPI schema for query parameters), so a new page
is covered the day it is added: a route with an id in its path, or a view that reads an id such as
`?patient=` from the query string, must be listed below either with the ids to call it with or, commented,
as showing no patient data. Each is then fetched as an administrator with real ids and the background
header set, and must have written an entry naming the patient.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.testing.personas import Personas

# Query parameters (and path segments) that carry an id, or a phone number, of a patient's record.
ID_PARAMETER = re.compile(
    r"(patient|conversation|appointment|message|reminder|note|caregiver|alert)(_?id|_?pk)?|number|phone"
)
QUERY_READ = re.compile(r"""\bGET(?:\.get\(|\[)\s*["'](\w+)["']""")


def _walk(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace)
        elif entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, prefix + str(entry.pattern), entry


ROUTES = {name: pattern for name, _, pattern in _walk(get_resolver().url_patterns)}
# The portal's pages are read by patients and caregivers, not staff: the portal's own sweep
# (careline/portal/tests/test_portal_sweep.py) proves their reads are audited with that actor.
ROUTES_WITH_IDS = sorted(
    name
    for name, pattern in ROUTES.items()
    if pattern.pattern.regex.groupindex and not name.startswith("portal:")
)


def _query_reads(pattern: URLPattern) -> set[str]:
    """The query parameters a view reads by name that carry a record's id."""
    try:
        source = inspect.getsource(inspect.unwrap(pattern.callback))
    except (OSError, TypeError):
        return set()
    return {name for name in QUERY_READ.findall(source) if ID_PARAMETER.fullmatch(name)}


def _api_query_reads() -> set[tuple[str, str]]:
    """(route name, parameter) for the API's GET operations whose query parameters carry an id."""
    from careline.api import api

    api_routes = {name.split(":", 1)[1] for name in ROUTES if name.startswith("api:")}
    reads = set()
    for operations in api.get_openapi_schema()["paths"].values():
        operation = operations.get("get")
        if operation is None:
            continue
        view = next(name for name in api_routes if operation["operationId"].endswith(f"_{name}"))
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and ID_PARAMETER.fullmatch(parameter["name"]):
                reads.add((f"api:{view}", parameter["name"]))
    return reads


QUERY_ROUTES = sorted(
    {
        (name, param)
        for name, pattern in ROUTES.items()
        if not name.startswith(("api:", "portal:"))
        for param in _query_reads(pattern)
    }
    | _api_query_reads()
)


@dataclass
class Records:
    """Real rows of Pat's to call the routes with."""

    personas: Personas
    conversation: int
    media: str
    appointment: int
    message: int
    note: int
    alert: int
    caregiver: int
    clinical: dict[str, Any]  # the clinical record's rows by kind (careline.testing.urlsweep.records_rows)
    statement: int = 0


Args = Callable[[Records], dict[str, Any]]


def _payment_of_pat(records: Records) -> int:
    """A payment of Pat's (its receipt page is the route under test)."""
    from django.utils import timezone

    from careline.billing.models import Payment

    payment = Payment.objects.create(
        patient=records.personas.pat, amount_cents=1_000, method="cash", received_at=timezone.now()
    )
    return int(payment.pk)


PAT: Args = lambda r: {"pk": r.personas.pat.pk}  # noqa: E731
CONVERSATION: Args = lambda r: {"pk": r.conversation}  # noqa: E731
APPOINTMENT: Args = lambda r: {"pk": r.appointment}  # noqa: E731

# Route -> its path arguments. Each GET must write an entry naming Pat.
PATIENT_ROUTES: dict[str, Args] = {
    "patients:detail": PAT,
    "patients:edit": PAT,
    "patients:phones": PAT,
    "patients:preferences": PAT,
    "patients:consent": PAT,
    "patients:caregiver_create": PAT,
    "patients:caregiver_edit": lambda r: {"pk": r.personas.pat.pk, "caregiver_pk": r.caregiver},
    "portal_admin:caregiver_grant": lambda r: {"pk": r.personas.pat.pk, "caregiver_pk": r.caregiver},
    "patients:notes": PAT,
    "patients:note_detail": lambda r: {"pk": r.personas.pat.pk, "note_pk": r.note},
    "patients:note_amend": lambda r: {"pk": r.personas.pat.pk, "note_pk": r.note},
    "patients:alert_create": PAT,
    "messaging:conversation": CONVERSATION,
    "messaging:thread": CONVERSATION,
    "messaging:media": lambda r: {"pk": r.conversation, "name": r.media},
    "messaging:scheduled_edit": lambda r: {"pk": r.message},
    "scheduling:appointment": APPOINTMENT,
    "scheduling:move": APPOINTMENT,
    "scheduling:cancel": APPOINTMENT,
    "billing:ledger": PAT,
    "billing:payment_record": PAT,
    "api:billing_balance_api": lambda r: {"patient_id": r.personas.pat.pk},
    "api:billing_ledger_api": lambda r: {"patient_id": r.personas.pat.pk},
    "billing:statement_issue": PAT,
    "billing:guarantor": PAT,
    "billing:statement": lambda r: {"pk": r.statement},
    "billing:statement_pdf": lambda r: {"pk": r.statement},
    "billing:receipt": lambda r: {"pk": _payment_of_pat(r)},
    "api:patient_detail_api": lambda r: {"patient_id": r.personas.pat.pk},
    "api:patient_update_api": lambda r: {"patient_id": r.personas.pat.pk},  # same path as the read
    "api:appointment_detail_api": lambda r: {"appointment_id": r.appointment},
    "api:appointment_update_api": lambda r: {"appointment_id": r.appointment},  # same path as the read
    "records:patient": PAT,
    "records:document_add": PAT,
    "records:document": lambda r: {"pk": r.personas.pat.pk, "document_pk": r.clinical["document"]},
    "records:document_file": lambda r: {"pk": r.personas.pat.pk, "document_pk": r.clinical["document"]},
    "records:result_add": PAT,
    "records:result": lambda r: {"pk": r.personas.pat.pk, "result_pk": r.clinical["lab_result"]},
    **{
        f"records:{kind}_add": PAT
        for kind in ("allergies", "medications", "problems", "immunizations", "visit_summaries")
    },
    "records:allergies": lambda r: {"pk": r.personas.pat.pk, "allergy_pk": r.clinical["allergy"]},
    "records:medications": lambda r: {"pk": r.personas.pat.pk, "medication_pk": r.clinical["medication"]},
    "records:problems": lambda r: {"pk": r.personas.pat.pk, "problem_pk": r.clinical["problem"]},
    "records:immunizations": lambda r: {
        "pk": r.personas.pat.pk,
        "immunization_pk": r.clinical["immunization"],
    },
    "records:visit_summaries": lambda r: {"pk": r.personas.pat.pk, "summary_pk": r.clinical["visit_summary"]},
    "care:alert": lambda r: {"care_alert_pk": r.clinical["care_alert"]},
    "care:alert_trend": lambda r: {"care_alert_pk": r.clinical["care_alert"]},
    "care:patient": PAT,
    "care:enrol": PAT,
    "care:reading_add": PAT,
    "referrals:refer": PAT,
    "referrals:detail": lambda r: {"referral_pk": r.clinical["referral"]},
    "education:send": PAT,
}

# Routes that act on a patient's record but only by POST: a GET is refused (405) and shows nothing.
POST_ONLY: dict[str, Args] = {
    "patients:note_create": PAT,
    "patients:alert_remove": lambda r: {"pk": r.personas.pat.pk, "alert_pk": r.alert},
    "portal_admin:caregiver_revoke": lambda r: {"pk": r.personas.pat.pk, "caregiver_pk": r.caregiver},
    "messaging:note_add": CONVERSATION,
    "messaging:assign": CONVERSATION,
    "messaging:status": CONVERSATION,
    "messaging:tag_add": CONVERSATION,
    "messaging:tag_remove": lambda r: {"pk": r.conversation, "tag_pk": 1},
    "messaging:link_patient": CONVERSATION,
    "messaging:opt_out": CONVERSATION,
    "messaging:dismiss": CONVERSATION,
    "messaging:flag": CONVERSATION,
    "messaging:mark_unread": CONVERSATION,
    "messaging:scheduled_cancel": lambda r: {"pk": r.message},
    "scheduling:status": APPOINTMENT,
    "scheduling:calendar_move": APPOINTMENT,
    "scheduling:waitlist_remove": lambda r: {"pk": 1},
    "scheduling:visit_request_decline": lambda r: {"pk": 1},
    "api:appointment_cancel_api": lambda r: {"appointment_id": r.appointment},
    "portal_admin:invite": PAT,
    "portal_admin:lock": PAT,
    "portal_admin:unlock": PAT,
    "portal_admin:sign_out": PAT,
    "billing:adjust": PAT,
    "billing:refund": lambda r: {"pk": 1},
    "billing:overpayment_review": lambda r: {"pk": 1},
    "billing:self_pay": APPOINTMENT,
    "billing:charge_void": lambda r: {"pk": 1},
    "billing:statement_void": lambda r: {"pk": r.statement},
    "billing:statement_resend": lambda r: {"pk": r.statement},
    "billing:task_assign": lambda r: {"pk": 1},
    "billing:task_note": lambda r: {"pk": 1},
    "billing:task_close": lambda r: {"pk": 1},
    "billing:plan_create": PAT,
    "billing:plan_cancel": lambda r: {"pk": 1},
    "billing:dispute_open": PAT,
    "billing:dispute_resolve": lambda r: {"pk": 1},
    "records:result_release": lambda r: {"pk": r.personas.pat.pk, "result_pk": r.clinical["lab_result"]},
    "records:results_release_normal": PAT,
    "care:alert_acknowledge": lambda r: {"care_alert_pk": r.clinical["care_alert"]},
    "care:alert_resolve": lambda r: {"care_alert_pk": r.clinical["care_alert"]},
    "care:alert_call": lambda r: {"care_alert_pk": r.clinical["care_alert"]},
    "care:enrolment_end": lambda r: {"pk": r.personas.pat.pk, "enrolment_pk": r.clinical["care_enrolment"]},
    "referrals:state": lambda r: {"referral_pk": r.clinical["referral"]},
}

# Routes with an id in the path that show no patient's data. Keep the reason next to each.
EXEMPT = {
    # Staff accounts, API tokens, locations: no patient data.
    "accounts:staff_edit": "a staff member's account",
    "accounts:staff_mfa_reset": "a staff member's two-factor reset",
    "accounts:api_token_revoke": "an API token",
    "locations:edit": "a clinic location",
    # Configuration of messaging and scheduling.
    "messaging:channel_create": "a channel type's configuration form",
    "messaging:channel_edit": "a channel's configuration",
    "messaging:saved_reply_edit": "a saved reply's template text",
    "messaging:saved_reply_delete": "a saved reply's template text",
    "messaging:policy_edit": "a location's messaging policy",
    # The portal help chat's configuration.
    "portal_admin:faq_edit": "a portal FAQ entry",
    "portal_admin:faq_delete": "a portal FAQ entry",
    "portal_admin:urgent_delete": "an urgent phrase of the portal help chat",
    "scheduling:type_edit": "an appointment type",
    "scheduling:hours_edit": "a clinician's working hours and time off",
    "scheduling:hours_delete": "a clinician's working hours",
    "scheduling:time_off_delete": "a clinician's time off",
    "scheduling:reminder_rule_edit": "a reminder rule",
    "records:release_rule_edit": "a lab test's release rule (a test code and a delay)",
    # The on-call rota and its pages: who is on call, and a page's kind and staff link (no patient's data).
    "oncall:shift_edit": "an on-call shift (staff and times)",
    "oncall:shift_delete": "an on-call shift",
    "oncall:page": "an on-call page: its kind, a staff link and who was told",
    "oncall:page_acknowledge": "acknowledging an on-call page",
    "care:program_edit": "a care program's schedule, instructions and thresholds",
    "referrals:provider_edit": "an outside provider of the directory (no patient's data)",
    "surveys:settings_edit": "a location's survey settings",
    # The education library and care programs' items: clinic-wide teaching material, no patient's data.
    "education:item_edit": "an education item of the library",
    "education:program_items": "a care program's education items",
    # Staff training: the clinic's courses, protocols and assignments and staff members' own records.
    "training:course": "a staff training course (lessons and quiz)",
    "training:lesson_file": "a staff training lesson's PDF",
    "training:protocol": "a staff protocol's current version",
    "training:course_edit": "a staff training course's settings",
    "training:lesson_edit": "a staff training lesson",
    "training:lesson_create": "a new staff training lesson's form",
    "training:question_edit": "a staff training quiz question",
    "training:question_create": "a new staff training quiz question's form",
    "training:protocol_edit": "a staff protocol and its versions",
    "training:assignment_edit": "a staff training assignment",
    # The recipient's signed links: the open is counted on the send, the page shows the item only.
    "education_public:open": "a texted education link, by signed token",
    "education_public:item": "an education item's public page, by signed token",
    "scheduling:reminder_rule_deactivate": "a reminder rule",
    "scheduling:reminder_replan_status": "a reminder re-plan's counts",
    "accounts:staff_unlock": "a staff member's sign-in lock",
    # Outreach: lists of many patients (an audience's first rows, a campaign's recalls), each audited as one
    # entry naming the patients shown (careline/outreach/tests/test_pages.py); a location's birthday texts.
    "outreach:audience": "a recall audience's counts and first rows (one entry naming the patients shown)",
    "outreach:campaign": "a recall campaign's counts and first rows (one entry naming the patients shown)",
    "outreach:campaign_cancel": "cancelling a recall campaign (POST)",
    "outreach:birthdays": "a location's birthday message setting",
    # An announcement to many patients: its text and delivery counts, no one patient's data.
    "messaging:announcement_detail": "an announcement's text and counts",
    "messaging:announcement_progress": "an announcement's counts",
    # A CSV import's progress: counts and row problems (row, column, what is wrong), no patient's record.
    "patients:import_status": "an import's progress",
    # A billing import's preview: counts by kind and row problems (row, column, what is wrong), no record.
    "billing:import_preview": "a billing import's preview",
    "billing:import_apply": "confirms a billing import (POST): counts only",
    "billing:statement_run": "a statement run's progress: counts of patients, none named",
    # A bulk portal invitation's progress: counts only.
    "portal_admin:invite_batch": "a bulk portal invitation's counts",
    # Fetched with an unguessable signed token by the SMS provider (the image of an MMS being sent) and by
    # the patient's own calendar app (the .ics link texted to them); no staff member reads through these.
    "messaging:media_public": "the provider fetching an MMS image by signed token",
    "scheduling:appointment_ics": "the patient's own calendar file, by token",
    # A statement's pay link, opened by the payer with its signed token; its reads are audited with the
    # payer as actor after the date of birth (careline/billing/tests/test_pay_page.py).
    "pay:page": "the payer's own pay link, by signed token",
    "pay:checkout": "the payer's own pay link, by signed token",
    "pay:fresh_link": "the payer's own pay link, by signed token",
    # The built-in test payment provider's page, by a checkout's unguessable reference: an amount and a
    # description ("Statement S-000123"), no patient's name or record; read by the payer, not staff.
    "payment-test-checkout": "the test payment page of a checkout, by its reference",
}

# Query parameters that carry an id, and the value to send. Each GET must write an entry naming Pat.
QUERY_CASES: dict[tuple[str, str], Callable[[Records], str]] = {
    ("messaging:simulator", "number"): lambda r: "+13125550111",
    ("messaging:simulator_screen", "number"): lambda r: "+13125550111",
    ("scheduling:book", "patient"): lambda r: str(r.personas.pat.pk),
    ("scheduling:series", "patient"): lambda r: str(r.personas.pat.pk),
    ("scheduling:waitlist", "patient"): lambda r: str(r.personas.pat.pk),
    ("api:message_list_api", "patient_id"): lambda r: str(r.personas.pat.pk),
    ("api:appointment_list_api", "patient_id"): lambda r: str(r.personas.pat.pk),
}

# Query parameters that carry an id on pages that show no patient data.
QUERY_EXEMPT = {
    # The free-slot search only carries the id on into its booking links; it shows no patient's data.
    ("scheduling:slots", "patient"): "free slots, with the id passed on to the booking form",
    # Redirects to the patient's conversation (or back to the patient page), and that page audits.
    ("messaging:start", "patient"): "a redirect to the conversation page",
    # The consent page's ?number= preselects one of the patient's numbers; the page is audited by its path.
    ("patients:consent", "number"): "covered by the route's patient id",
}


def test_every_route_with_an_id_is_swept_or_exempted_with_a_reason():
    listed = set(PATIENT_ROUTES) | set(POST_ONLY) | set(EXEMPT)
    missing = sorted(set(ROUTES_WITH_IDS) - listed)
    assert not missing, (
        f"add these routes to the audit sweep (or, if they show no patient data, to EXEMPT): {missing}"
    )
    assert not sorted(listed - set(ROUTES)), "the sweep lists routes that no longer exist"


def test_every_query_parameter_carrying_an_id_is_swept_or_exempted_with_a_reason():
    assert ("scheduling:book", "patient") in QUERY_ROUTES  # the source scan still finds query reads
    assert ("api:message_list_api", "patient_id") in QUERY_ROUTES  # and the API's query schemas
    missing = sorted(set(QUERY_ROUTES) - set(QUERY_CASES) - set(QUERY_EXEMPT))
    assert not missing, f"add these query parameters to the audit sweep (or QUERY_EXEMPT): {missing}"


@pytest.fixture
def records(personas: Personas, settings: Any, tmp_path: Any) -> Iterator[Records]:
    from careline.messaging.services import attachments
    from careline.messaging.tests.h3_support import scheduled_message
    from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, texted_by
    from careline.patients.models import PatientAlert
    from careline.patients.services.notes import alert_add, note_add
    from careline.scheduling.tests.appointment_support import MONDAY, at_a, book, make_schedule
    from careline.testing.urlsweep import care_rows, records_rows, referral_rows

    settings.MEDIA_ROOT = str(tmp_path)
    with time_machine.travel(NOON_CHICAGO, tick=False):
        conversation = texted_by(PAT_NUMBER)
        stored = attachments.media_save(
            conversation_id=conversation.pk, data=b"\x89PNG\r\n\x1a\n", extension="png"
        )
        appointment = book(make_schedule(personas), at_a(personas, MONDAY, 10))
        message = scheduled_message(personas.pat)
        note = note_add(
            patient=personas.pat,
            kind="communication",
            text="Prefers mornings",
            actor=Actor.staff(personas.admin),
        )
        alert_add(
            patient=personas.pat, kind="mobility", text="Uses a wheelchair", actor=Actor.staff(personas.admin)
        )
        yield Records(
            personas=personas,
            conversation=conversation.pk,
            media=stored.split("/", 1)[1],
            appointment=appointment.pk,
            message=message.pk,
            note=note.pk,
            alert=PatientAlert.objects.get(patient=personas.pat).pk,
            caregiver=personas.pat_caregiver.pk,
            clinical={
                **records_rows(personas.pat, personas.clinician_a, "Northside"),
                **care_rows(personas.pat, personas.clinician_a),
                **referral_rows(personas.pat, personas.clinician_a, "Northside"),
            },
            statement=_statement_of(personas.pat),
        )


def _statement_of(patient: Any) -> int:
    """A statement of PATIENT's (a row, as the ledger's statements list shows it)."""
    from datetime import date

    from careline.billing.models import Statement

    return int(
        Statement.objects.create(
            patient=patient, statement_date=date(2030, 3, 4), due_date=date(2030, 4, 3), amount_due_cents=100,
            channel="mail", issued_at=patient.created_at,
        ).pk
    )  # fmt: skip


def _get(records: Records, name: str, kwargs: dict[str, Any], query: dict[str, str] | None = None) -> Any:
    """GET the route as the administrator, marked as a background request (which must change nothing)."""
    from careline.patients.tests.api_support import make_token
    from careline.testing.personas import sign_in

    admin = records.personas.admin
    headers = {"X-Careline-Background": "1"}
    if name.startswith("api:"):
        headers["Authorization"] = f"Bearer {make_token(admin)}"
        client = Client()
    else:
        client = sign_in(Client(), admin)
    return client.get(reverse(name, kwargs=kwargs), query or {}, headers=headers)


def _entries_about_pat_since(records: Records, last_id: int) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            pk__gt=last_id, patient_id=records.personas.pat.pk, actor=records.personas.admin
        )
    )


def _last_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.parametrize("name", sorted(PATIENT_ROUTES))
def test_reading_a_patients_record_writes_an_entry_naming_the_patient(records, name):
    before = _last_id()
    response = _get(records, name, PATIENT_ROUTES[name](records))
    assert response.status_code == 200, response.content[:300]
    assert _entries_about_pat_since(records, before), f"{name} showed Pat's data without an audit entry"


@pytest.mark.parametrize(("name", "param"), sorted(QUERY_CASES))
def test_reading_a_patient_chosen_by_query_writes_an_entry_naming_the_patient(records, name, param):
    before = _last_id()
    response = _get(records, name, {}, {param: QUERY_CASES[(name, param)](records)})
    assert response.status_code == 200, response.content[:300]
    assert _entries_about_pat_since(records, before), (
        f"{name}?{param}= showed Pat's data without an audit entry"
    )


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_routes_listed_as_post_only_show_nothing_to_a_get(records, name):
    assert _get(records, name, POST_ONLY[name](records)).status_code == 405
