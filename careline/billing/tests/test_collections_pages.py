"""The collections pages: the worklist, the dashboard and its CSV, the ledger's plan and dispute actions, and the
follow-up sequence's settings: who may use them, what they show, and bad input refused without change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careline.billing.models import (
    BillingTask,
    Dispute,
    FollowUpStep,
    PaymentMethod,
    PaymentPlan,
    TaskKind,
)
from careline.billing.services.payments import payment_record
from careline.billing.tests.collections_support import statement_issued
from careline.billing.tests.support import billing_actor, owing
from careline.core.models import AuditEntry
from careline.patients.models import Patient
from careline.testing.personas import Personas

NOON_CHICAGO = datetime(2030, 4, 1, 17, 0, tzinfo=UTC)
pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock", "default_followup_steps")]

Clients = Callable[[Any], Client]
ROLES = ("admin", "front_a", "clinician_a", "billing_a", "front_b", None)


def _outcomes(
    personas: Personas, client_for: Clients, send: Callable[[Client], Any]
) -> dict[str | None, bool]:
    def allowed(response: Any) -> bool:
        return not (
            response.status_code in (403, 404, 405)
            or (response.status_code == 302 and "/accounts/login" in response["Location"])
        )

    return {role: allowed(send(client_for(getattr(personas, role) if role else None))) for role in ROLES}


BILLING_ONLY = {
    "admin": True,
    "front_a": False,
    "clinician_a": False,
    "billing_a": True,
    "front_b": False,
    None: False,
}


@pytest.mark.parametrize("name", ["billing:worklist", "billing:dashboard", "billing:dashboard_csv"])
def test_worklist_and_dashboard_are_for_billing_staff(personas, client_for, name):
    assert _outcomes(personas, client_for, lambda c: c.get(reverse(name))) == BILLING_ONLY


def test_the_sequence_settings_are_for_administrators(personas, client_for):
    outcome = _outcomes(personas, client_for, lambda c: c.get(reverse("billing:followup_steps")))
    assert outcome == {**BILLING_ONLY, "billing_a": False}


def _world(personas):
    """Pat owes 40.00 on a statement 20 days old with a call task; Quinn (location B) owes 15.00."""
    owing(personas, 4000)
    statement = statement_issued(personas.pat)
    task = BillingTask.objects.create(
        patient=personas.pat, kind=TaskKind.CALL, statement=statement, created_at=statement.issued_at
    )
    return statement, task


def test_the_worklist_shows_tasks_and_aged_balances_and_audits_each_patient(personas, client_for, clock):
    _statement, task = _world(personas)
    clock.move_to(NOON_CHICAGO + timedelta(days=40), tick=False)
    response = client_for(personas.billing_a).get(reverse("billing:worklist"))
    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in page and "Call the patient" in page
    assert "31–60 days (1 · $40.00)" in page and "40 days" in page
    assert AuditEntry.objects.filter(patient_id=personas.pat.pk, detail="billing worklist").exists()


def test_another_locations_tasks_are_not_listed(personas, client_for):
    _statement, task = _world(personas)
    page = client_for(personas.front_b).get(reverse("billing:worklist"))
    assert page.status_code == 403
    # An administrator of every location sees it; billing at location A too; nobody at B would.
    assert (
        f'id="task-{task.pk}"' in client_for(personas.admin).get(reverse("billing:worklist")).content.decode()
    )


def test_the_worklist_reads_a_fixed_number_of_queries(personas, client_for):
    _world(personas)
    client = client_for(personas.billing_a)
    client.get(reverse("billing:worklist"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("billing:worklist"))
    for _ in range(5):
        extra = Patient.objects.create(
            mrn=f"X{_}",
            legal_first_name="Extra",
            legal_last_name=f"Owing{_}",
            date_of_birth=date(1980, 1, 1),
            primary_location=personas.location_a,
        )
        owing(personas, 3000, patient=extra)
        BillingTask.objects.create(patient=extra, kind=TaskKind.REVIEW, created_at=NOON_CHICAGO)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("billing:worklist"))
    assert len(many) == len(few)


def test_task_assign_note_close(personas, client_for):
    _statement, task = _world(personas)
    client = client_for(personas.billing_a)
    client.post(reverse("billing:task_assign", args=[task.pk]), {"assignee": "me"})
    client.post(reverse("billing:task_note", args=[task.pk]), {"body": "Voicemail left"})
    client.post(reverse("billing:task_close", args=[task.pk]), {"outcome": "Paid by phone"})
    task.refresh_from_db()
    assert task.assigned_to == personas.billing_a and task.state == "done" and task.outcome == "Paid by phone"
    assert task.notes.get().body == "Voicemail left"


@pytest.mark.parametrize(
    ("route", "data"),
    [
        ("billing:task_assign", {"assignee": "nobody-such"}),
        ("billing:task_assign", {"assignee": "999999"}),
        ("billing:task_note", {"body": "   "}),
        ("billing:task_close", {"outcome": ""}),
        ("billing:task_close", {"outcome": "x" * 500}),
    ],
)
def test_bad_task_input_changes_nothing(personas, client_for, route, data):
    _statement, task = _world(personas)
    response = client_for(personas.billing_a).post(reverse(route, args=[task.pk]), data, follow=True)
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.state == "open" and task.assigned_to is None and not task.notes.exists()


def test_assigning_to_someone_outside_billing_is_refused(personas, client_for):
    _statement, task = _world(personas)
    response = client_for(personas.billing_a).post(
        reverse("billing:task_assign", args=[task.pk]), {"assignee": str(personas.front_a.pk)}, follow=True
    )
    assert "Choose someone on the billing team." in response.content.decode()
    task.refresh_from_db()
    assert task.assigned_to is None


def test_the_dashboard_figures(personas, client_for, clock):
    owing(personas, 4000)
    statement_issued(personas.pat, channel="sms")
    clock.move_to(NOON_CHICAGO + timedelta(days=4), tick=False)
    payment_record(
        patient=personas.pat, amount_cents=4000, method=PaymentMethod.CASH, actor=billing_actor(personas)
    )
    clock.shift(timedelta(hours=1))
    owing(personas, 2500, patient=personas.pat)
    statement_issued(personas.pat, channel="email")
    response = client_for(personas.billing_a).get(reverse("billing:dashboard"))
    page = response.content.decode()
    assert response.status_code == 200 and "Outstanding by age: $25.00" in page
    csv = client_for(personas.billing_a).get(reverse("billing:dashboard_csv")).content.decode()
    assert "statements_by_channel,Text message,1,,1.000,4" in csv
    assert "statements_by_channel,Email,1,,0.000," in csv
    assert "collected_by_month,2030-04,,$40.00" in csv
    assert "outstanding_by_age,0–30 days,1,$25.00" in csv


def test_plan_and_dispute_from_the_ledger(personas, client_for):
    owing(personas, 30000)
    statement_issued(personas.pat)
    client = client_for(personas.billing_a)
    ledger = reverse("billing:ledger", args=[personas.pat.pk])
    assert "Set up a payment plan" in client.get(ledger).content.decode()
    client.post(
        reverse("billing:plan_create", args=[personas.pat.pk]),
        {"plan-instalments": "3", "plan-first_due": "2030-04-20"},
    )
    plan = PaymentPlan.objects.get()
    assert plan.instalments.count() == 3
    page = client.get(ledger).content.decode()
    assert 'id="plan-instalments"' in page
    client.post(
        reverse("billing:dispute_open", args=[personas.pat.pk]),
        {"dispute-reason": "Says insurance should pay"},
    )
    dispute = Dispute.objects.get()
    client.post(
        reverse("billing:dispute_resolve", args=[dispute.pk]),
        {"resolve-resolution": "Explained the deductible"},
    )
    dispute.refresh_from_db()
    assert not dispute.is_open
    client.post(reverse("billing:plan_cancel", args=[plan.pk]), {"plan-cancel-reason": "Paying in full"})
    plan.refresh_from_db()
    assert plan.state == "cancelled"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (
            {"plan-instalments": "x", "plan-first_due": "2030-04-20"},
            "Monthly payments: Enter a whole number.",
        ),
        ({"plan-instalments": "3", "plan-first_due": "not a date"}, "First payment due: Enter a valid date."),
        (
            {"plan-instalments": "40", "plan-first_due": "2030-04-20"},
            "Choose between 2 and 12 monthly payments.",
        ),
        ({"plan-instalments": "3", "plan-first_due": "1999-01-01"}, "cannot be due in the past"),
        ({}, "Monthly payments: This field is required."),
    ],
)
def test_bad_plans_from_the_ledger_say_why_and_change_nothing(personas, client_for, data, says):
    owing(personas, 30000)
    statement_issued(personas.pat)
    response = client_for(personas.billing_a).post(
        reverse("billing:plan_create", args=[personas.pat.pk]), data, follow=True
    )
    assert response.status_code == 200
    assert says in response.content.decode()
    assert not PaymentPlan.objects.exists()


def test_a_plan_without_a_statement_is_explained(personas, client_for):
    owing(personas, 30000)
    response = client_for(personas.billing_a).post(
        reverse("billing:plan_create", args=[personas.pat.pk]),
        {"plan-instalments": "3", "plan-first_due": "2030-04-20"},
        follow=True,
    )
    assert "Issue a statement first" in response.content.decode()
    assert not PaymentPlan.objects.exists()


def test_the_sequence_can_be_changed_and_bad_input_changes_nothing(personas, client_for):
    client = client_for(personas.admin)
    steps = list(FollowUpStep.objects.all())
    data = {f"days-{s.pk}": str(s.days_after) for s in steps} | {f"action-{s.pk}": s.action for s in steps}
    data |= {f"active-{s.pk}": "on" for s in steps}
    bad = dict(data, **{f"days-{steps[0].pk}": "0"})
    assert client.post(reverse("billing:followup_steps"), bad).status_code == 400
    assert FollowUpStep.objects.get(pk=steps[0].pk).days_after == 15
    duplicate = dict(data, **{"new-days": "15", "new-action": "reminder"})
    assert client.post(reverse("billing:followup_steps"), duplicate).status_code == 400
    assert FollowUpStep.objects.count() == 4
    good = dict(data, **{f"days-{steps[0].pk}": "10", "new-days": "45", "new-action": "reminder"})
    del good[f"active-{steps[3].pk}"]
    assert client.post(reverse("billing:followup_steps"), good).status_code == 302
    assert sorted(FollowUpStep.objects.filter(is_active=True).values_list("days_after", flat=True)) == [
        10,
        30,
        45,
        60,
    ]
