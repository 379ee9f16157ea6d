"""The demo clinic's staff training: two courses, a protocol in two versions, partial completion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from careline.core.permissions import Role
from careline.testing.personas import make_staff
from careline.training.demo import training_seed_demo
from careline.training.models import Completion, Course, Protocol, Task, TaskState
from careline.training.queries import overdue_by_location

pytestmark = [pytest.mark.clock(datetime(2031, 3, 10, 18, 0, tzinfo=UTC))]


def test_the_demo_has_people_done_overdue_and_a_re_acknowledgement_pending(personas, clock):
    doctor = make_staff("doctor@example.test", "Dr. Demo", [Role.CLINICIAN], [personas.location_a])
    users = {
        "admin": personas.admin, "front_downtown": personas.front_a, "front_lakeside": personas.front_b,
        "nurse": personas.clinician_a, "doctor": doctor, "billing": personas.billing_a,
    }  # fmt: skip
    counts = training_seed_demo(users=users, today=timezone.localdate())
    assert counts["training_courses"] == 2
    assert set(Course.objects.values_list("title", flat=True)) == {
        "HIPAA privacy essentials",
        "Texting patients well",
    }
    assert Protocol.objects.get().versions.count() == 2

    hipaa = Course.objects.get(title="HIPAA privacy essentials")
    passed = set(Completion.objects.filter(course=hipaa, passed=True).values_list("user__email", flat=True))
    assert passed == {personas.admin.email, personas.clinician_a.email, personas.billing_a.email}
    overdue = {task.user for group in overdue_by_location() for task in group.tasks}
    assert {personas.front_a, personas.front_b, doctor} <= overdue
    pending = Task.objects.filter(state=TaskState.OPEN, protocol_version__number=2)
    assert set(pending.values_list("user__email", flat=True)) == {
        personas.front_b.email,
        personas.billing_a.email,
    }
    assert Completion.objects.filter(protocol_version__number=1).count() == 3  # kept after version 2

    assert training_seed_demo(users=users, today=timezone.localdate()) == {"training_courses": 0}
