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
    account = PortalAccount.objects.get(patient=busiest)
    return PortalBench(account=account, patient=busiest, patient_ids=ids, seconds=seconds, rows=rows)
