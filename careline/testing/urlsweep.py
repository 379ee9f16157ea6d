"""Every route of the URL configuration, and concrete URLs for it filled from a world of real rows.

Sweeps (access by persona, ids swapped between locations, the Content-Security-Policy on every page) walk
`routes()` instead of a hand-kept list, so a page is covered the day it is added. A route whose URL takes
an argument the world cannot fill fails loudly in `kwarg_kind`: add the argument to KWARG_KINDS and its
rows to `build_world`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from careline.accounts.models import ApiToken, User
from careline.core.permissions import Role
from careline.locations.models import Location
from careline.testing.personas import Personas, make_staff

API_PREFIX = "/api/v1/"
# The methods that change things; a page route answers both GET and POST unless it says otherwise.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# What a URL argument names, by (the literal path segment just before it, the argument's name).
KWARG_KINDS: dict[tuple[str, str], str] = {
    ("staff", "pk"): "staff_user",
    ("api-tokens", "pk"): "api_token",
    ("locations", "pk"): "location",
    ("policies", "location_id"): "location",
    ("p", "token"): "public_media_token",
    ("inbox", "pk"): "conversation",
    ("media", "name"): "media_name",
    ("tags", "tag_pk"): "tag",
    ("announcements", "pk"): "announcement",
    ("scheduled", "pk"): "scheduled_message",
    ("new", "type_code"): "channel_type",
    ("channels", "pk"): "channel",
    ("saved-replies", "pk"): "saved_reply",
    ("appointments", "pk"): "appointment",
    ("appointments", "appointment_id"): "appointment",
    ("waitlist", "pk"): "waitlist_entry",
    ("requests", "pk"): "visit_request",
    ("types", "pk"): "appointment_type",
    ("hours", "pk"): "clinician",
    ("period", "pk"): "working_hours",
    ("time-off", "pk"): "time_off",
    ("reminder-rules", "pk"): "reminder_rule",
    ("replans", "pk"): "reminder_replan",
    ("ics", "token"): "ics_token",
    ("patients", "pk"): "patient",
    ("patients", "patient_id"): "patient",
    ("caregivers", "caregiver_pk"): "caregiver",
    ("notes", "note_pk"): "care_note",
    ("alerts", "alert_pk"): "alert",
    ("import", "pk"): "import_job",
    ("invite", "token"): "portal_invitation_token",
    ("invitations", "pk"): "portal_invitation_batch",
    ("faq", "pk"): "faq_entry",
    ("messages", "pk"): "portal_conversation",
    ("files", "name"): "portal_file",
    ("urgent-words", "pk"): "urgent_phrase",
    ("payments", "pk"): "billing_payment",
    ("charges", "pk"): "billing_charge",
    ("imports", "pk"): "billing_import",
    ("statements", "pk"): "billing_statement",
    ("statement-runs", "pk"): "billing_statement_run",
    ("pay", "token"): "pay_token",  # a statement's signed pay link
    ("checkout", "reference"): "test_checkout_reference",  # the test payment provider's page
    ("tasks", "pk"): "billing_task",
    ("plans", "pk"): "billing_plan",
    ("disputes", "pk"): "billing_dispute",
    ("join", "token"): "portal_grant_token",
    ("allergies", "allergy_pk"): "allergy",
    ("medications", "medication_pk"): "medication",
    ("problems", "problem_pk"): "problem",
    ("immunizations", "immunization_pk"): "immunization",
    ("visit-summaries", "summary_pk"): "visit_summary",
    ("documents", "document_pk"): "document",
    ("results", "result_pk"): "lab_result",
    ("release-rules", "rule_pk"): "release_rule",
    ("documents", "key"): "document_key",  # the portal's download link
    ("results", "pk"): "portal_result",
    ("shifts", "pk"): "oncall_shift",
    ("pages", "pk"): "oncall_page",
    ("alerts", "care_alert_pk"): "care_alert",
    ("enrolments", "enrolment_pk"): "care_enrolment",
    ("programs", "program_pk"): "care_program",
    ("referrals", "referral_pk"): "referral",
    ("providers", "provider_pk"): "referral_provider",
    ("audiences", "pk"): "outreach_audience",
    ("campaigns", "pk"): "outreach_campaign",
    ("birthdays", "location_id"): "location",
    ("items", "item_pk"): "education_item",  # the clinic-wide library
    ("learn", "token"): "education_send_token",  # a texted education link (signed)
    ("item", "token"): "education_item_token",  # an education item's public page (signed)
    # Staff training: the clinic's courses, protocols and assignments (no location's, no patient's).
    ("courses", "course_pk"): "training_course",
    ("lessons", "lesson_pk"): "training_lesson",
    ("questions", "question_pk"): "training_question",
    ("protocols", "protocol_pk"): "training_protocol",
    ("assignments", "assignment_pk"): "training_assignment",
}
# Arguments that are not an object of a location: signed links (the signature is the key) and type codes.
# The portal's own rows are addressed by patients, never by staff (the portal's sweep swaps them by patient).
UNSCOPED_KINDS = frozenset(
    {
        "public_media_token",
        "ics_token",
        "channel_type",
        "media_name",
        "portal_invitation_token",
        "portal_grant_token",
        "portal_conversation",
        "portal_file",
        "pay_token",
        "test_checkout_reference",
        "referral_provider",  # the directory of outside providers is the clinic's, not a location's
        "education_item",
        "education_send_token",
        "education_item_token",
        "training_course",
        "training_lesson",
        "training_question",
        "training_protocol",
        "training_assignment",
    }
)

_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    """One entry of the URL configuration."""

    key: str  # "namespace:name"; the pattern itself for an unnamed route
    pattern: str  # "/inbox/<int:pk>/notes"
    kwargs: tuple[str, ...]
    is_api: bool
    # The HTTP methods of an API operation (ninja shares one path between several operations); empty for
    # a page, which decides for itself.
    methods: frozenset[str]
    callback: Callable[..., Any] = field(compare=False, repr=False)

    @property
    def kinds(self) -> dict[str, str]:
        """What each URL argument names."""
        return {name: kwarg_kind(self.pattern, name) for name in self.kwargs}

    @property
    def takes_object_id(self) -> bool:
        """Whether the URL names a row that belongs to a location (so another location's id must be refused)."""
        return any(kind not in UNSCOPED_KINDS for kind in self.kinds.values())

    @property
    def writes(self) -> bool:
        """Whether this is an API operation that changes things."""
        return bool(self.methods & WRITE_METHODS)


def kwarg_kind(pattern: str, name: str) -> str:
    """What argument NAME of PATTERN names; LookupError, naming the fix, when the sweep does not know it."""
    for match in _ARGUMENT.finditer(pattern):
        if match.group("name") != name:
            continue
        before = [part for part in pattern[: match.start()].split("/") if part]
        segment = before[-1] if before else ""
        kind = KWARG_KINDS.get((segment, name))
        if kind is None:
            raise LookupError(
                f"{pattern}: the URL sweep cannot fill <{name}> after '{segment}/'; add "
                f"({segment!r}, {name!r}) to KWARG_KINDS in careline/testing/urlsweep.py and a row to build_world"
            )
        return kind
    raise LookupError(f"{pattern} has no argument <{name}>")


def _ninja_methods(callback: Callable[..., Any], name: str) -> frozenset[str]:
    """The methods of the ninja operation NAME served by CALLBACK (ninja's per-path view closes over its PathView)."""
    for cell in getattr(callback, "__closure__", None) or ():
        path_view = cell.cell_contents
        for operation in getattr(path_view, "operations", ()):
            url_name = getattr(operation, "url_name", "") or operation.view_func.__name__
            if url_name == name:
                return frozenset(method.upper() for method in operation.methods)
    return frozenset({"GET"})


def _walk(entries: Iterable[URLPattern | URLResolver], prefix: str, namespace: str) -> Iterator[Route]:
    for entry in entries:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = entry.namespace or ""
            nested = f"{namespace}:{inner}" if namespace and inner else namespace or inner
            yield from _walk(entry.url_patterns, pattern, nested)
            continue
        route = "/" + pattern
        is_api = route.startswith(API_PREFIX)
        name = entry.name
        key = (f"{namespace}:{name}" if namespace else name) if name else route
        methods = _ninja_methods(entry.callback, name or "") if is_api and name else frozenset()
        kwargs = tuple(match.group("name") for match in _ARGUMENT.finditer(route))
        yield Route(key, route, kwargs, is_api, methods, entry.callback)


def routes(urlconf: str | None = None) -> list[Route]:
    """Every route of the URL configuration (careline/urls.py by default), sorted by pattern then key."""
    found = list(_walk(get_resolver(urlconf).url_patterns, "", ""))
    return sorted(found, key=lambda route: (route.pattern, route.key))


def sample_url(route: Route) -> str:
    """ROUTE with each argument filled by a placeholder of its converter (for sweeps that need no rows)."""
    samples = {
        "int": "1",
        "str": "x",
        "slug": "x",
        "path": "x",
        "uuid": "00000000-0000-0000-0000-000000000001",
    }
    return _ARGUMENT.sub(lambda m: samples.get(m.group("converter") or "str", "x"), route.pattern)


# --- the world: real rows at location A (Pat's) and location B (Quinn's) ---------------------------------


@dataclass
class Side:
    """The rows of one location, by kind: the value a URL argument of that kind takes."""

    location: Location
    front_desk: User
    values: dict[str, Any]


@dataclass
class World:
    """Both locations' rows, and a bearer token for each staff persona."""

    personas: Personas
    a: Side
    b: Side
    tokens: dict[str, str]
    media_files: list[str]
    stored_files: list[str] = field(default_factory=list)  # other files by their storage name

    def side_of(self, role: str) -> Side:
        """The location whose rows ROLE works with: B for front_b, A for everyone else."""
        return self.b if role.endswith("_b") else self.a

    def url(self, route: Route, side: Side) -> str:
        """ROUTE filled with SIDE's rows."""

        def fill(match: re.Match[str]) -> str:
            return str(side.values[kwarg_kind(route.pattern, match.group("name"))])

        return _ARGUMENT.sub(fill, route.pattern)


def _token(user: User, name: str, admin: User) -> tuple[ApiToken, str]:
    """A token made the way an administrator makes one (so it follows the service's rules, e.g. expiry)."""
    from careline.accounts.services import api_token_create
    from careline.core.actor import Actor

    return api_token_create(user=user, name=name, actor=Actor.staff(admin))


# A tiny valid PNG (1x1), stored as a conversation's image.
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _side(personas: Personas, *, location: Location, front_desk: User, clinician: User, patient: Any) -> Side:
    """One location's rows: a patient's notes, conversation, visit (charged, claimed, partly paid), waitlist
    entry, and the location's settings."""
    from careline.billing.models import Adjudication, BillingImport, Charge, Claim, Payment, PaymentCheckout
    from careline.messaging.models import (
        Announcement,
        Conversation,
        InternalNote,
        Message,
        MessagingPolicy,
        SavedReply,
        Tag,
    )
    from careline.messaging.services.attachments import media_save, provider_media_url
    from careline.messaging.services.channels import channel_fallback, simulator_channel
    from careline.patients.models import Caregiver, CareNote, PatientAlert, PatientImport
    from careline.portal.models import PortalAccount, PortalInvitation, PortalInvitationBatch
    from careline.portal.services.invitations import token_hash as invitation_token_hash
    from careline.scheduling.ics import ics_token
    from careline.scheduling.models import (
        Appointment,
        AppointmentType,
        ReminderReplan,
        ReminderRule,
        TimeOff,
        VisitRequest,
        WaitlistEntry,
        WorkingHours,
    )

    now = timezone.now()
    suffix = location.name.split()[0]
    # Both conversations are on the phone simulator's channel; location B's channel pages show the email
    # channel, so that two channel types are covered.
    channel = simulator_channel()
    listed_channel = channel if patient == personas.pat else channel_fallback("email")
    assert listed_channel is not None, "the email channel type provides a built-in channel"
    number = patient.phones.get(is_primary=True).number
    conversation = Conversation.objects.create(
        channel=channel, contact=number, patient=patient, location=location, last_message_at=now
    )
    Message.objects.create(
        conversation=conversation, channel=channel, patient=patient, direction="in", to_address=channel.address,
        from_address=number, body="Is the clinic open Friday?", state="delivered", processed_at=now,
    )  # fmt: skip
    scheduled = Message.objects.create(
        conversation=conversation, channel=channel, patient=patient, direction="out", to_address=number,
        body="See you soon.", state="queued", scheduled=True, due_at=now + timedelta(days=30), author=front_desk,
    )  # fmt: skip
    InternalNote.objects.create(conversation=conversation, text="Called back.", author=front_desk)
    tag = Tag.objects.create(name=f"follow-up {suffix}")
    conversation.tags.add(tag)
    file = media_save(conversation_id=conversation.pk, data=_PNG, extension="png")
    media_name = file.partition("/")[2]
    public_token = provider_media_url(conversation.pk, media_name).rstrip("/").rsplit("/", 1)[-1]
    MessagingPolicy.objects.get_or_create(location=location)

    caregiver = (
        personas.pat_caregiver
        if patient == personas.pat
        else Caregiver.objects.create(
            patient=patient, name="Robin Baker", relationship="sibling", phone="+14155550133"
        )
    )
    note = CareNote.objects.create(
        patient=patient,
        kind="handoff",
        text="Prefers mornings.",
        author=front_desk,
        location=location,
        created_at=now,
    )
    alert = PatientAlert.objects.create(
        patient=patient, kind="interpreter", text="Spanish interpreter", created_by=front_desk, created_at=now
    )
    import_job = PatientImport.objects.create(
        file=f"imports/{suffix}.csv", original_name=f"{suffix}.csv", state="done", created_by=front_desk
    )
    invitation_token = f"sweep-invitation-{suffix}"
    PortalInvitation.objects.create(
        patient=patient,
        channel="sms",
        token_hash=invitation_token_hash(invitation_token),
        expires_at=now + timedelta(hours=72),
        created_by=front_desk,
    )
    PortalAccount.objects.get_or_create(
        patient=patient,
        defaults={
            "email": f"portal-{suffix.lower()}@patients.example.test",
            "display_name": suffix,
            "password": "x",
        },
    )
    invitation_batch = PortalInvitationBatch.objects.create(
        patient_ids=[patient.pk], total=1, processed=1, state="done", created_by=front_desk
    )

    checkup = AppointmentType.objects.create(name=f"Checkup {suffix}", duration_minutes=30)
    checkup.locations.add(location)
    checkup.clinicians.add(clinician)
    period = WorkingHours.objects.create(
        clinician=clinician, location=location, weekday=0, starts=time(9), ends=time(17)
    )
    starts = datetime(2031, 1, 6, 17, 0, tzinfo=UTC)
    away = TimeOff.objects.create(
        clinician=clinician,
        location=location,
        starts_at=starts + timedelta(days=14),
        ends_at=starts + timedelta(days=15),
    )
    appointment = Appointment.objects.create(
        patient=patient, clinician=clinician, location=location, appointment_type=checkup, starts_at=starts,
        ends_at=starts + timedelta(minutes=30), created_by=front_desk,
    )  # fmt: skip
    rule = ReminderRule.objects.create(
        name=f"Day before {suffix}", days_before=1, at_local_time=time(18), template_en="See you soon."
    )
    rule.locations.add(location)
    replan = ReminderReplan.objects.create(rule=rule, reason=ReminderReplan.Reason.ADDED)
    entry = WaitlistEntry.objects.create(patient=patient, appointment_type=checkup, location=location)
    visit_request = VisitRequest.objects.create(
        patient=patient, appointment_type=checkup, location=location, preferred_days=[0], reason="Follow-up"
    )

    # Billing: a charge on the visit, a claim the payer paid with the patient owing a copay, and a payment.
    charge = Charge.objects.create(
        patient=patient, visit=appointment, service_code="99213", description="Office visit", units=1,
        unit_amount_cents=15_000, amount_cents=15_000, service_date=starts.date(),
    )  # fmt: skip
    claim = Claim.objects.create(
        patient=patient,
        visit=appointment,
        payer="Acme Health",
        member_id="M-1",
        status="paid",
        submitted_at=now,
    )
    Adjudication.objects.create(
        claim=claim, charge=charge, allowed_cents=12_000, paid_by_insurer_cents=9_500, adjustment_cents=3_000,
        adjustment_reason_code="CO-45", copay_cents=2_500, adjudicated_at=now,
    )  # fmt: skip
    payment = Payment.objects.create(patient=patient, amount_cents=1_000, method="cash", received_at=now)
    # A billing import its uploader follows (finished: confirming it again changes nothing).
    billing_import = BillingImport.objects.create(
        original_name=f"export-{suffix}.csv", state="invalid", created_by=personas.billing_a if
        patient == personas.pat else front_desk, errors=[{"row": 2, "column": "units", "message": "Required."}],
    )  # fmt: skip
    from careline.billing.models import Statement, StatementLine
    from careline.billing.paylinks import pay_link_token

    statement = Statement.objects.create(
        patient=patient, statement_date=now.date(), due_date=now.date() + timedelta(days=30),
        amount_due_cents=1_500, channel="mail", issued_at=now,
    )  # fmt: skip
    StatementLine.objects.create(
        statement=statement, position=1, kind="charge", visit=appointment, charge=charge, line_date=starts.date(),
        description="Office visit", charged_cents=15_000, insurance_paid_cents=9_500, amount_cents=2_500,
    )  # fmt: skip
    # An online checkout at the built-in test provider: its test payment page is addressed by its reference.
    checkout = PaymentCheckout.objects.create(
        patient=patient, amount_cents=1_500, description="Statement S-000001", provider="test",
        idempotency_key=f"sweep-{suffix}",
    )  # fmt: skip
    collections = collections_rows(patient, now)
    from careline.billing.models import StatementRun

    statement_run = StatementRun.objects.create(
        statement_date=now.date(), location=location, created_at=now, updated_at=now, state="done",
        created_by=personas.admin,
    )  # fmt: skip

    revocable, _ = _token(front_desk, f"integration {suffix}", personas.admin)
    announcement = Announcement.objects.create(
        title=f"Closed Monday ({suffix})", body="We are closed Monday.", location=location, state="done",
        created_by=front_desk,
    )  # fmt: skip
    reply = SavedReply.objects.create(
        title=f"Hours {suffix}", body="We open at 8.", location=location, created_by=front_desk
    )
    from careline.portal.models import FaqEntry, UrgentPhrase

    faq_entry = FaqEntry.objects.create(
        question=f"When does {suffix} open?", answer="At 8.", keywords="hours, open"
    )
    urgent_phrase = UrgentPhrase.objects.create(phrase=f"sweep emergency {suffix.lower()}", language="en")
    from careline.messaging.channels.portal.conversations import portal_conversation, portal_patient_message

    portal_thread = portal_conversation(patient=patient)
    portal_file = media_save(conversation_id=portal_thread.pk, data=b"%PDF-1.4 sweep", extension="pdf")
    portal_patient_message(
        conversation=portal_thread,
        body="My scan",
        media=[
            {"content_type": "application/pdf", "file": portal_file, "state": "copied", "name": "scan.pdf"}
        ],
    )
    values: dict[str, Any] = {
        "staff_user": front_desk.pk,
        "api_token": revocable.pk,
        "location": location.pk,
        "public_media_token": public_token,
        "conversation": conversation.pk,
        "media_name": media_name,
        "media_file": file,
        "tag": tag.pk,
        "announcement": announcement.pk,
        "scheduled_message": scheduled.pk,
        "channel_type": listed_channel.type_code,
        "channel": listed_channel.pk,
        "saved_reply": reply.pk,
        "appointment": appointment.pk,
        "waitlist_entry": entry.pk,
        "visit_request": visit_request.pk,
        "appointment_type": checkup.pk,
        "clinician": clinician.pk,
        "working_hours": period.pk,
        "time_off": away.pk,
        "reminder_rule": rule.pk,
        "reminder_replan": replan.pk,
        "ics_token": ics_token(appointment),
        "patient": patient.pk,
        "phone_number": number,
        "patient_last_name": patient.legal_last_name,
        # How a page shows the patient: by name, or a link to their page (not by MRN, which the search box's
        # example text happens to show).
        "patient_markers": (patient.display_name, f'"/patients/{patient.pk}"'),
        "caregiver": caregiver.pk,
        "care_note": note.pk,
        "alert": alert.pk,
        "import_job": import_job.pk,
        "portal_invitation_token": invitation_token,
        "portal_invitation_batch": invitation_batch.pk,
        "faq_entry": faq_entry.pk,
        "urgent_phrase": urgent_phrase.pk,
        "portal_conversation": portal_thread.pk,
        "portal_file": portal_file.partition("/")[2],
        "portal_media_file": portal_file,
        "billing_payment": payment.pk,
        "billing_charge": charge.pk,
        "billing_import": billing_import.pk,
        "billing_statement": statement.pk,
        "billing_statement_run": statement_run.pk,
        "pay_token": pay_link_token(statement),
        "test_checkout_reference": checkout.reference,
        **collections,
        "portal_grant_token": f"no-such-invitation-{suffix}",  # a caregiver's invitation link (unknown)
        **records_rows(patient, clinician, suffix),
        **oncall_rows(location, clinician, conversation.pk),
        **care_rows(patient, clinician),
        **referral_rows(patient, clinician, suffix),
        **outreach_rows(location, checkup, front_desk),
        **education_rows(patient, clinician, suffix),
        **training_rows(clinician, suffix),
    }
    return Side(location, front_desk, values)


def collections_rows(patient: Any, now: Any) -> dict[str, Any]:
    """A statement of PATIENT's with a payment plan, an open dispute and a billing task."""
    from datetime import timedelta

    from careline.billing.models import BillingTask, Dispute, PaymentPlan, PlanInstalment, Statement

    today = now.date()
    statement = Statement.objects.create(
        patient=patient,
        statement_date=today,
        due_date=today + timedelta(days=30),
        amount_due_cents=5_000,
        channel="mail",
        issued_at=now,
    )
    plan = PaymentPlan.objects.create(patient=patient, statement=statement, total_cents=5_000, created_at=now)
    PlanInstalment.objects.create(
        plan=plan, number=1, due_date=today + timedelta(days=10), amount_cents=5_000
    )
    dispute = Dispute.objects.create(
        patient=patient, statement=statement, reason="Amount questioned", opened_at=now
    )
    task = BillingTask.objects.create(patient=patient, kind="call", statement=statement, created_at=now)
    return {"billing_task": task.pk, "billing_plan": plan.pk, "billing_dispute": dispute.pk}


def oncall_rows(location: Location, clinician: User, conversation_id: int) -> dict[str, Any]:
    """A night's on-call shift at LOCATION and an open page about its conversation."""
    from careline.oncall.models import OnCallShift, Page

    now = timezone.now()
    shift = OnCallShift.objects.create(
        location=location,
        clinician=clinician,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=8),
    )
    page = Page.objects.create(
        location=location, reason="urgent-text", link_path=f"/inbox/{conversation_id}", shift=shift,
        clinician=clinician, created_at=now, escalate_at=now + timedelta(minutes=15),
    )  # fmt: skip
    return {"oncall_shift": shift.pk, "oncall_page": page.pk}


def records_rows(patient: Any, clinician: User, suffix: str) -> dict[str, Any]:
    """A patient's clinical record: one entry of each kind, a PDF, a held result and a release rule."""
    import io
    from datetime import date
    from decimal import Decimal

    from careline.core.actor import Actor
    from careline.records.models import (
        Allergy,
        Immunization,
        Medication,
        Problem,
        ReleasePolicy,
        ResultReleaseRule,
        VisitSummary,
    )
    from careline.records.services.documents import document_add
    from careline.records.services.entries import record_add
    from careline.records.services.results import result_add

    actor = Actor.staff(clinician)
    now = timezone.now()

    def add(model: Any, **values: Any) -> int:
        return int(record_add(model=model, patient=patient, values=values, actor=actor).pk)

    document = document_add(
        patient=patient, title=f"Letter {suffix}", upload=io.BytesIO(b"%PDF-1.4\n%%EOF\n"), original_name="",
        size=None, actor=actor,
    )  # fmt: skip
    result = result_add(
        patient=patient, actor=actor,
        values={
            "test_code": "HBA1C", "test_name": "Hemoglobin A1c", "value": "7.9", "unit": "%",
            "reference_low": Decimal("4.0"), "reference_high": Decimal("5.6"),
            "collected_at": now - timedelta(days=1), "resulted_at": now,
        },
    )  # fmt: skip
    rule = ResultReleaseRule.objects.create(
        test_code=f"T{suffix.upper()}"[:30], policy=ReleasePolicy.HELD, updated_by=clinician, updated_at=now
    )
    return {
        # Not an argument's value: the stored file's name, removed with the world.
        "document_file": document.file.name,
        "allergy": add(Allergy, substance="Penicillin"),
        "medication": add(Medication, name="Metformin"),
        "problem": add(Problem, name="Type 2 diabetes"),
        "immunization": add(Immunization, vaccine="Influenza", date_given=date(2030, 10, 1)),
        "visit_summary": add(VisitSummary, visit_date=date(2030, 12, 1), summary="Keep walking."),
        "document": document.pk,
        "document_key": document.download_key,
        "lab_result": result.pk,
        "portal_result": result.pk,
        "release_rule": rule.pk,
    }


def care_rows(patient: Any, clinician: User) -> dict[str, Any]:
    """PATIENT enrolled in the hypertension program with a critical reading (so an open alert)."""
    from decimal import Decimal
    from importlib import import_module

    from django.apps import apps

    from careline.care.models import CareAlert, CareProgram
    from careline.care.services.enrolment import enrolment_create
    from careline.care.services.readings import reading_add_by_staff
    from careline.core.actor import Actor

    # The seeded programs, again if a transactional test flushed the tables since the migration ran.
    import_module("careline.care.migrations.0002_seed_programs").seed(apps, None)
    actor = Actor.staff(clinician)
    program = CareProgram.objects.get(code="hypertension")
    enrolment = enrolment_create(patient=patient, program=program, channel="text", actor=actor, notify=False)
    reading_add_by_staff(
        patient=patient, measure="blood_pressure", value=Decimal(190), value2=Decimal(100),
        taken_at=timezone.now(), actor=actor,
    )  # fmt: skip
    return {
        "care_alert": CareAlert.objects.get(patient=patient).pk,
        "care_enrolment": enrolment.pk,
        "care_program": program.pk,
    }


def referral_rows(patient: Any, clinician: User, suffix: str) -> dict[str, Any]:
    """A provider of the directory and PATIENT's referral to it (no text sent)."""
    from careline.core.actor import Actor
    from careline.referrals.models import OutsideProvider
    from careline.referrals.services.referrals import referral_create

    provider = OutsideProvider.objects.create(
        name=f"Lakeside Physio {suffix}",
        kind="physiotherapy",
        phone="+13125550199",
        updated_at=timezone.now(),
    )
    referral = referral_create(
        patient=patient, provider=provider, reason="Knee pain", consent_given=True, actor=Actor.staff(clinician),
        notify=False,
    )  # fmt: skip
    return {"referral": referral.pk, "referral_provider": provider.pk}


def outreach_rows(location: Location, checkup: Any, front_desk: User) -> dict[str, Any]:
    """A recall audience of LOCATION's patients due a checkup, with a campaign scheduled for later."""
    from careline.outreach.models import Audience, Campaign

    audience = Audience.objects.create(
        name=f"Checkup due {location.pk}", location=location, rule="no_visit", visit_type=checkup
    )
    campaign = Campaign.objects.create(
        audience=audience, send_at=timezone.now() + timedelta(days=30), created_by=front_desk
    )
    return {"outreach_audience": audience.pk, "outreach_campaign": campaign.pk}


def education_rows(patient: Any, clinician: User, suffix: str) -> dict[str, Any]:
    """An article of the library sent to PATIENT (the send row only: its signed link and the item's)."""
    from careline.education.links import item_token, send_token
    from careline.education.models import EducationItem, EducationSend

    now = timezone.now()
    item = EducationItem.objects.create(
        title=f"Walking every day {suffix}", kind="article", topic="general", language="en", reading_level=6,
        body="Walk a little every day.", created_by=clinician, created_at=now, updated_at=now,
    )  # fmt: skip
    send = EducationSend.objects.create(item=item, patient=patient, sent_by=clinician, sent_at=now)
    return {
        "education_item": item.pk,
        "education_send_token": send_token(send.pk),
        "education_item_token": item_token(item.pk),
    }


def training_rows(author: User, suffix: str) -> dict[str, Any]:
    """A course with a PDF lesson and a quiz question, a published protocol and an assignment of them."""
    import io

    from careline.core.actor import Actor
    from careline.training.services import (
        assignment_save,
        course_save,
        lesson_save,
        protocol_publish,
        protocol_save,
        question_save,
    )

    actor = Actor.staff(author)
    course = course_save(course=None, values={"title": f"Privacy {suffix}", "pass_mark": 80}, actor=actor)
    lesson = lesson_save(
        course=course, lesson=None, values={"title": "The rules", "kind": "pdf"},
        upload=io.BytesIO(b"%PDF-1.4\n%%EOF\n"), original_name="rules.pdf", size=None, actor=actor,
    )  # fmt: skip
    question = question_save(
        course=course, question=None, text="Who may read a chart?", choices=[("Staff", True), ("Anyone", False)],
        actor=actor,
    )  # fmt: skip
    protocol = protocol_save(protocol=None, title=f"Billing by text {suffix}", is_active=True, actor=actor)
    protocol_publish(protocol=protocol, body="Never quote a balance by text.", actor=actor)
    assignment = assignment_save(
        assignment=None, values={"course": course, "role": Role.FRONT_DESK, "due_days": 14}, people=[],
        actor=actor,
    )  # fmt: skip
    return {
        "training_course": course.pk,
        "training_lesson": lesson.pk,
        "training_question": question.pk,
        "training_protocol": protocol.pk,
        "training_assignment": assignment.pk,
        # Not an argument's value: the stored file's name, removed with the world.
        "training_lesson_file": lesson.file.name,
    }


def build_world(personas: Personas) -> World:
    """Rows of every kind a URL can name at location A (Pat) and location B (Quinn), and each persona's token."""
    p = personas
    clinician_b = make_staff("nurse.b@example.test", "Harper Clinician", [Role.CLINICIAN], [p.location_b])
    a = _side(p, location=p.location_a, front_desk=p.front_a, clinician=p.clinician_a, patient=p.pat)
    b = _side(p, location=p.location_b, front_desk=p.front_b, clinician=clinician_b, patient=p.quinn)
    tokens = {role: _token(user, "sweep", p.admin)[1] for role, user in p.staff.items()}
    return World(
        p,
        a,
        b,
        tokens,
        [side.values[key] for side in (a, b) for key in ("media_file", "portal_media_file")],
        [side.values[key] for side in (a, b) for key in ("document_file", "training_lesson_file")],
    )


def remove_world_files(world: World) -> None:
    """Delete the media files the world stored (rows go with the test database; files would stay)."""
    from django.core.files.storage import default_storage

    from careline.messaging.services.attachments import media_delete

    for file in world.media_files:
        media_delete(file)
    for name in world.stored_files:
        default_storage.delete(name)
