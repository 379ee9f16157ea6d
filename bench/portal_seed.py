"""Seeding the portal benchmark on top of the staff workspace's clinic: portal accounts and lab results.

Every tenth patient gets a portal account (bulk inserts, one password hash shared); the measured patient is
the one with the longest texting history, so each page shows the most a real patient's page would. Lab
results (500,000 by default) spread over the patients with a portal account, repeated tests forming trends.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import transaction

from bench.workspace_seed import Workspace
from careline.messaging.models import Conversation
from careline.patients.models import Patient
from careline.portal.models import ALL_SECTIONS, PortalAccess, PortalAccount
from careline.testing.portal import PORTAL_PASSWORD

ACCOUNT_EVERY = 10
BATCH = 5_000


@dataclass
class PortalBench:
    """Who the measurement signs in as, and how long seeding took."""

    account: PortalAccount
    patient: Patient
    patient_ids: list[int]
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    portal_conversation_id: int = 0  # the measured patient's portal conversation with the care team
    portal_file: str = ""  # the name of a PDF they sent in it
    visit_id: int = 0  # an upcoming visit of the patient (its page, confirm, cancel, reschedule, .ics)
    visit_request_id: int = 0  # an open visit request of the patient


def seed_accounts(patient_ids: list[int]) -> int:
    """A portal account (by email) with every section for each of PATIENT_IDS."""
    password = make_password(PORTAL_PASSWORD)
    created = 0
    for start in range(0, len(patient_ids), BATCH):
        chunk = patient_ids[start : start + BATCH]
        with transaction.atomic():
            accounts = PortalAccount.objects.bulk_create(
                [
                    PortalAccount(
                        email=f"patient{pk}@bench.example.test",
                        display_name="Bench",
                        password=password,
                        patient_id=pk,
                    )
                    for pk in chunk
                ]
            )
            PortalAccess.objects.bulk_create(
                [
                    PortalAccess(account=account, patient_id=pk, sections=list(ALL_SECTIONS))
                    for account, pk in zip(accounts, chunk, strict=True)
                ]
            )
        created += len(accounts)
    return created


def seed_results(patient_ids: list[int], count: int, seed: int) -> int:
    """COUNT lab results over PATIENT_IDS, when the records app has them (bench/records_seed.py)."""
    if "labresult" not in apps.all_models["records"]:
        return 0
    from bench.records_seed import seed_lab_results

    return seed_lab_results(patient_ids, count, random.Random(seed))


def seed_portal(workspace: Workspace, *, results: int, seed: int) -> PortalBench:
    """Portal accounts for every tenth patient and the busiest texter, then lab results; timed per step."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    busiest = Conversation.objects.get(pk=workspace.heavy_conversation_ids[0]).patient
    assert busiest is not None, "the heavy conversations belong to patients"
    ids = list(Patient.objects.order_by("pk").values_list("pk", flat=True)[::ACCOUNT_EVERY])
    ids = [busiest.pk, *(pk for pk in ids if pk != busiest.pk)]
    rows = {"portal accounts": seed_accounts(ids)}
    seconds["portal accounts"] = time.perf_counter() - started
    started = time.perf_counter()
    rows["lab results"] = seed_results(ids, results, seed)
    seconds["lab results"] = time.perf_counter() - started
    started = time.perf_counter()
    rows["portal messages"], conversation_id, file = seed_portal_messages(ids, busiest_id=busiest.pk)
    seconds["portal messages"] = time.perf_counter() - started
    account = PortalAccount.objects.get(patient=busiest)
    visit_id, visit_request_id = seed_visit(busiest)
    return PortalBench(
        account=account,
        patient=busiest,
        patient_ids=ids,
        seconds=seconds,
        rows=rows,
        portal_conversation_id=conversation_id,
        portal_file=file,
        visit_id=visit_id,
        visit_request_id=visit_request_id,
    )


def seed_portal_messages(
    patient_ids: list[int], *, busiest_id: int, per_patient: int = 4, history: int = 400
) -> tuple[int, int, str]:
    """A portal conversation with the care team for each of PATIENT_IDS (PER_PATIENT messages, HISTORY for
    BUSIEST_ID, with a PDF); (messages made, the busiest's conversation id, the PDF's stored name)."""
    from django.utils import timezone

    from careline.messaging.channels.portal.conversations import portal_channel, portal_contact
    from careline.messaging.models import Message, MessageKind, MessageState
    from careline.messaging.services.attachments import media_save

    channel = portal_channel()
    now = timezone.now()
    locations = dict(Patient.objects.filter(pk__in=patient_ids).values_list("pk", "primary_location_id"))
    made = 0
    busiest_conversation = 0
    for start in range(0, len(patient_ids), BATCH):
        chunk = patient_ids[start : start + BATCH]
        with transaction.atomic():
            conversations = Conversation.objects.bulk_create(
                [
                    Conversation(
                        channel=channel,
                        contact=portal_contact(pk),
                        patient_id=pk,
                        location_id=locations[pk],
                        last_message_at=now,
                    )
                    for pk in chunk
                ]
            )
            messages = []
            for conversation in conversations:
                count = history if conversation.patient_id == busiest_id else per_patient
                if conversation.patient_id == busiest_id:
                    busiest_conversation = conversation.pk
                for number in range(count):
                    inbound = number % 2 == 0
                    messages.append(
                        Message(
                            conversation=conversation,
                            channel=channel,
                            patient_id=conversation.patient_id,
                            direction="in" if inbound else "out",
                            kind=MessageKind.PATIENT if inbound else MessageKind.STAFF,
                            to_address="portal" if inbound else conversation.contact,
                            from_address=conversation.contact if inbound else "portal",
                            body=f"Portal message {number}: a question about the next visit.",
                            state=MessageState.RECEIVED if inbound else MessageState.DELIVERED,
                            processed_at=now if inbound else None,
                            delivered_at=None if inbound else now,
                        )
                    )
            Message.objects.bulk_create(messages, batch_size=BATCH)
            made += len(messages)
    file = media_save(conversation_id=busiest_conversation, data=b"%PDF-1.4 bench", extension="pdf")
    Message.objects.create(
        conversation_id=busiest_conversation,
        channel=channel,
        patient_id=busiest_id,
        direction="in",
        kind=MessageKind.PATIENT,
        to_address="portal",
        from_address=portal_contact(busiest_id),
        body="My referral",
        media=[{"content_type": "application/pdf", "file": file, "state": "copied", "name": "referral.pdf"}],
        state=MessageState.RECEIVED,
        processed_at=now,
    )
    return made + 1, busiest_conversation, file.partition("/")[2]


def seed_visit(patient: Patient) -> tuple[int, int]:
    """An upcoming booked visit of PATIENT (a workspace visit's clinician, place and type, four weeks ahead, at
    the same time of day) and an open visit request: the appointment pages' arguments."""
    from datetime import timedelta

    from django.utils import timezone

    from careline.scheduling.models import Appointment, AppointmentStatus, VisitRequest

    model = Appointment.objects.select_related("appointment_type").order_by("-starts_at").first()
    assert model is not None, "the workspace has a calendar"
    starts = model.starts_at
    while starts < timezone.now() + timedelta(days=28):
        starts += timedelta(days=7)
    visit = Appointment.objects.create(
        patient=patient, clinician_id=model.clinician_id, location_id=model.location_id,
        appointment_type=model.appointment_type, starts_at=starts, ends_at=starts + (model.ends_at - model.starts_at),
        status=AppointmentStatus.BOOKED,
    )  # fmt: skip
    request = VisitRequest.objects.create(
        patient=patient, appointment_type=model.appointment_type, location_id=model.location_id,
        preferred_days=[0, 2], preferred_times=["morning"],
    )  # fmt: skip
    return visit.pk, request.pk
