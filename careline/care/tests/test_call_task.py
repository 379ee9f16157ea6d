"""The call task on an alert: one click logs a call and how it went, on the alert, the patient's timeline and
the audit trail; who may log one (per role and location), and bad input changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careline.care.models import AlertKind, AlertState, CareAlert, CareAlertCall, Severity
from careline.care.services.alerts import alert_open, alert_resolve
from careline.care.tests.support import MONDAY_8_CHICAGO, enrolled
from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.core.permissions import Role
from careline.testing.personas import Personas, make_staff, sign_in

pytestmark = [pytest.mark.clock(MONDAY_8_CHICAGO)]


@pytest.fixture
def missed(personas: Personas, clock: Any) -> CareAlert:
    """Pat's call task: two check-ins in a row without an answer."""
    enrolment = enrolled(personas.pat, personas.clinician_a)
    return alert_open(
        enrolment=enrolment, kind=AlertKind.MISSED, severity=Severity.WARNING,
        summary="2 check-ins in a row without an answer: call the patient", reading=None, now=timezone.now(),
    )  # fmt: skip


def _client(user: Any) -> Client:
    return sign_in(Client(), user)


def _log(client: Client, alert: CareAlert, outcome: str, back: str = "alert") -> Any:
    return client.post(reverse("care:alert_call", args=[alert.pk]), {"outcome": outcome, "back": back})


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("admin", True),
        ("clinician_a", True),
        ("charge_nurse_a", True),
        ("front_a", False),
        ("billing_a", False),
        ("front_b", False),
        ("clinician_b", False),
    ],
)
def test_clinicians_charge_nurses_and_administrators_of_the_location_log_calls(
    personas: Personas, missed: CareAlert, role: str, allowed: bool
) -> None:
    if role == "charge_nurse_a":
        user = make_staff(
            "charge.a@example.test", "Charlie Charge", [Role.CHARGE_NURSE], [personas.location_a]
        )
    elif role == "clinician_b":
        user = make_staff("nurse.b@example.test", "Harper B", [Role.CLINICIAN], [personas.location_b])
    else:
        user = personas.staff[role]
    response = _log(_client(user), missed, "reached")
    assert response.status_code == (302 if allowed else 403)
    assert CareAlertCall.objects.count() == (1 if allowed else 0)


def test_an_outsider_is_sent_to_sign_in_and_nothing_is_logged(missed: CareAlert) -> None:
    response = _log(Client(), missed, "reached")
    assert response.status_code == 302 and "/accounts/login" in response["Location"]
    assert not CareAlertCall.objects.exists()


def test_the_worklist_offers_the_call_with_the_number_and_three_outcomes(
    personas: Personas, missed: CareAlert
) -> None:
    page = _client(personas.clinician_a).get(reverse("care:worklist")).content.decode()
    assert reverse("care:alert_call", args=[missed.pk]) in page
    assert 'href="tel:+13125550111"' in page
    for label in ("Reached", "Left voicemail", "No answer"):
        assert f">{label}</button>" in page


def test_front_desk_granted_nothing_sees_no_call_task(personas: Personas, missed: CareAlert) -> None:
    assert _client(personas.front_a).get(reverse("care:worklist")).status_code == 403


def test_one_click_logs_the_call_on_the_alert_timeline_and_audit_trail(
    personas: Personas, missed: CareAlert
) -> None:
    client = _client(personas.clinician_a)
    response = _log(client, missed, "voicemail", back="worklist")
    assert response.status_code == 302 and response["Location"] == reverse("care:worklist")
    call = CareAlertCall.objects.get()
    assert (call.alert, call.patient, call.caller, call.outcome) == (
        missed, personas.pat, personas.clinician_a, "voicemail",
    )  # fmt: skip
    # Working the alert acknowledges it (its escalation clock stops).
    missed.refresh_from_db()
    assert (missed.state, missed.acknowledged_by) == (AlertState.ACKNOWLEDGED, personas.clinician_a)
    entry = AuditEntry.objects.get(object_type="care.carealertcall")
    assert entry.patient_id == personas.pat.pk and "voicemail" in entry.detail
    worklist = client.get(reverse("care:worklist")).content.decode()
    assert "Last call: Left voicemail" in worklist
    alert_page = client.get(reverse("care:alert", args=[missed.pk])).content.decode()
    assert "<strong>Left voicemail</strong>" in alert_page
    timeline = client.get(reverse("patients:detail", args=[personas.pat.pk])).content.decode()
    assert "Care call: left voicemail" in timeline


def test_several_calls_are_kept_newest_first(personas: Personas, missed: CareAlert, clock: Any) -> None:
    from datetime import timedelta

    client = _client(personas.clinician_a)
    _log(client, missed, "no_answer")
    clock.shift(timedelta(minutes=10))
    _log(client, missed, "reached")
    assert list(missed.calls.values_list("outcome", flat=True)) == ["reached", "no_answer"]
    page = client.get(reverse("care:worklist")).content.decode()
    assert "Last call: Reached" in page


def test_the_timeline_keeps_calls_from_those_who_do_not_see_care(
    personas: Personas, missed: CareAlert
) -> None:
    _log(_client(personas.clinician_a), missed, "reached")
    page = _client(personas.front_a).get(reverse("patients:detail", args=[personas.pat.pk])).content.decode()
    assert "Care call" not in page


@pytest.mark.parametrize("data", [{"outcome": "sort of"}, {}, {"outcome": "x" * 5000}, {"outcome": ""}])
def test_a_bad_outcome_changes_nothing_and_says_so(
    personas: Personas, missed: CareAlert, data: dict[str, str]
) -> None:
    client = _client(personas.clinician_a)
    response = client.post(reverse("care:alert_call", args=[missed.pk]), data, follow=True)
    assert response.status_code == 200
    assert "Choose how the call went" in response.content.decode()
    assert not CareAlertCall.objects.exists()
    missed.refresh_from_db()
    assert missed.state == AlertState.OPEN


def test_a_resolved_alert_takes_no_more_calls(personas: Personas, missed: CareAlert) -> None:
    alert_resolve(alert=missed, outcome="unreachable", actor=Actor.staff(personas.clinician_a))
    response = _client(personas.clinician_a).post(
        reverse("care:alert_call", args=[missed.pk]), {"outcome": "reached"}, follow=True
    )
    assert response.status_code == 200 and "This alert is resolved" in response.content.decode()
    assert not CareAlertCall.objects.exists()


def test_an_unknown_alert_is_a_404(personas: Personas) -> None:
    response = _log(_client(personas.clinician_a), CareAlert(pk=987654), "reached")
    assert response.status_code == 404
