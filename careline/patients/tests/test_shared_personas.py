"""The personas are built once for this module, yet every test sees them as built and may change them freely.

Each test first checks that nothing an earlier test did (in any order: each change runs twice, so every
change comes both before and after every other) is left, in the database or on the objects, then makes its
own change. Run with a random order too: every test checks everything, whatever ran before it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from careline.accounts.models import StaffRole, User
from careline.core.actor import Actor
from careline.core.audit import audit_record
from careline.core.audit_chain import audit_chain_verify
from careline.core.models import AuditAction, AuditEntry
from careline.core.permissions import Role
from careline.patients.models import ConsentEvent, ConsentKind, ConsentMethod
from careline.patients.services.registry import consent_record, consent_state
from careline.testing.personas import PASSWORD, Personas, sign_in
from careline.testing.shared_personas import SHARED

pytestmark = pytest.mark.django_db

PAT_PHONE = "+13125550111"
CHANGES = ["lockout", "consent", "mfa", "roles", "audit", "objects"]
# What the tests before this one saw: the shared set's transaction and the objects they were handed.
SEEN: list[tuple[Any, Personas]] = []


def _advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _assert_as_built(personas: Personas) -> None:
    # The rows.
    assert AccessAttempt.objects.count() == 0
    front_a = User.objects.get(pk=personas.front_a.pk)
    assert front_a.is_active and front_a.full_name == "Frankie Front"
    assert sorted(StaffRole.objects.filter(user=front_a).values_list("role", flat=True)) == [Role.FRONT_DESK]
    assert list(front_a.locations.values_list("pk", flat=True)) == [personas.location_a.pk]
    assert list(TOTPDevice.objects.values_list("user_id", "confirmed")) == [(personas.admin.pk, True)]
    assert ConsentEvent.objects.count() == 1 and consent_state(PAT_PHONE) == ConsentKind.GIVEN
    # The audit trail: the entries an earlier test appended were rolled back (a rollback is no DELETE,
    # so the append-only triggers let it through), and the chain starts again from its first link.
    assert AuditEntry.objects.count() == 0
    report = audit_chain_verify()
    assert report.intact and report.head_seq == 0
    if connection.vendor == "postgresql":
        # The chain's advisory lock, taken inside an earlier test's savepoint, went with its rollback.
        assert _advisory_locks_held() == 0
    # The objects.
    assert personas.pat.preferred_name == "Pat" and personas.front_a.full_name == "Frankie Front"
    assert personas.location_a.name == "Northside Clinic"
    assert personas.pat.primary_location is personas.location_a  # copied together, as they were built
    assert personas.pat_caregiver.patient is personas.pat


def _change(kind: str, personas: Personas) -> None:
    if kind == "lockout":
        client = Client()
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post(reverse("accounts:login"), {"email": personas.front_a.email, "password": "wrong one"})
        refused = client.post(
            reverse("accounts:login"), {"email": personas.front_a.email, "password": PASSWORD}
        )
        assert refused.status_code == 429
        User.objects.filter(pk=personas.front_a.pk).update(is_active=False)
    elif kind == "consent":
        consent_record(
            phone_number=PAT_PHONE,
            kind=ConsentKind.REVOKED,
            method=ConsentMethod.STAFF,
            patient=personas.pat,
            actor=Actor.staff(personas.front_a),
        )
        assert consent_state(PAT_PHONE) == ConsentKind.REVOKED
    elif kind == "mfa":
        TOTPDevice.objects.filter(user=personas.admin).delete()
        TOTPDevice.objects.create(user=personas.front_a, name="Phone", confirmed=True)
    elif kind == "roles":
        StaffRole.objects.create(user=personas.front_a, role=Role.ADMIN)
        personas.front_a.locations.add(personas.location_b)
        personas.front_a.full_name = "Frankie Promoted"
        personas.front_a.save()
    elif kind == "audit":
        sign_in(Client(), personas.admin)
        audit_record(action=AuditAction.VIEW, actor=Actor.staff(personas.admin), obj=personas.pat)
        assert audit_chain_verify().head_seq == AuditEntry.objects.count() >= 2
        if connection.vendor == "postgresql":
            assert _advisory_locks_held() == 1
    elif kind == "objects":
        personas.pat.preferred_name = "Patty"
        personas.front_a.full_name = "Someone Else"
        personas.location_a.name = "Renamed in memory only"


@pytest.mark.parametrize(("round_", "kind"), [(r, kind) for r in (1, 2) for kind in CHANGES])
def test_each_test_sees_the_personas_as_built_whatever_the_one_before_changed(
    personas: Personas, round_: int, kind: str
) -> None:
    group = SHARED.group
    assert group is not None, "the personas of this module are shared"
    if SEEN and SEEN[-1][0] is group:
        earlier = SEEN[-1][1]
        # The same rows as the test before, handed over as new objects.
        assert personas.pat.pk == earlier.pat.pk and personas.admin.pk == earlier.admin.pk
        assert personas.pat is not earlier.pat and personas.location_a is not earlier.location_a
    SEEN.append((group, personas))
    _assert_as_built(personas)
    _change(kind, personas)


FROZEN = datetime(2024, 5, 6, 14, 30, tzinfo=UTC)


@pytest.mark.clock(FROZEN)
@pytest.mark.usefixtures("clock")
def test_a_test_with_its_own_clock_sees_the_personas_made_at_its_now(personas: Personas) -> None:
    """As if the test had built them itself: a consent change it records at its now wins over theirs."""
    assert SHARED.group is not None and SHARED.group.built_at != FROZEN
    assert timezone.now() == FROZEN
    assert ConsentEvent.objects.get().occurred_at == FROZEN
    assert User.objects.get(pk=personas.admin.pk).date_joined == personas.admin.date_joined == FROZEN
    assert personas.pat.created_at == personas.pat.updated_at == FROZEN
    consent_record(
        phone_number=PAT_PHONE,
        kind=ConsentKind.REVOKED,
        method=ConsentMethod.STAFF,
        patient=personas.pat,
        actor=Actor.staff(personas.front_a),
    )
    assert consent_state(PAT_PHONE) == ConsentKind.REVOKED
    assert personas.pat.date_of_birth.year == 1980  # only the build's own "now" moved
