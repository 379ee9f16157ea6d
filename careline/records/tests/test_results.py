"""Lab results: flags, the release rules, releases (single, all normal, the sweep) and the patient's notice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from careline.core.actor import Actor
from careline.messaging.models import Message
from careline.patients.models import ContactPreference
from careline.records.models import LabResult
from careline.records.queries import released_results_for_patient, result_trend
from careline.records.services.results import (
    release_rule_save,
    result_amend,
    result_release,
    results_release_due,
    results_release_normal,
)
from careline.records.tests.support import NOON_CHICAGO, result_for

pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a service and its after-commit callbacks (the notice), as a request would."""

    def run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return run


def _notices(patient):
    return list(Message.objects.filter(patient=patient, idempotency_key__startswith="result-ready:"))


def _rule(personas, code, policy, hours=0):
    return release_rule_save(
        rule=None,
        values={"test_code": code, "policy": policy, "delay_hours": hours},
        actor=Actor.staff(personas.admin),
    )


@pytest.mark.parametrize(
    ("value", "flag"),
    [("5.4", "normal"), ("3.1", "low"), ("7.9", "high"), ("4.0", "normal"), ("5.6", "normal")],
)
def test_the_flag_is_computed_from_a_numeric_range(personas, value, flag):
    result = result_for(personas.pat, personas.clinician_a, value=value)
    assert (result.flag, result.flag_overridden, result.value_number) == (flag, False, Decimal(value))


def test_a_chosen_flag_overrides_the_computed_one(personas):
    result = result_for(personas.pat, personas.clinician_a, value="12.5", flag="critical")
    assert (result.flag, result.flag_overridden) == ("critical", True)


def test_a_text_value_needs_a_chosen_flag(personas):
    with pytest.raises(ValidationError) as error:
        result_for(
            personas.pat, personas.clinician_a, value="Positive", reference_low=None, reference_high=None
        )
    assert "flag" in error.value.error_dict
    result = result_for(
        personas.pat, personas.clinician_a, value="Negative", reference_low=None, reference_high=None,
        reference_text="Negative", flag="normal",
    )  # fmt: skip
    assert result.value_number is None and result.reference_range == "Negative"


def test_a_normal_result_without_a_rule_is_released_at_once_and_the_patient_told(personas, committed):
    result = committed(result_for, patient=personas.pat, user=personas.clinician_a)
    result.refresh_from_db()
    assert result.released_at == timezone.now() and result.released_by is None
    [notice] = _notices(personas.pat)
    assert notice.purpose == "care"


@pytest.mark.parametrize("value", ["7.9", "3.1"])
def test_an_abnormal_result_is_held_for_a_clinician(personas, committed, value):
    result = committed(result_for, patient=personas.pat, user=personas.clinician_a, value=value)
    result.refresh_from_db()
    assert result.released_at is None and result.release_due_at is None
    assert not _notices(personas.pat)
    assert committed(result_release, result=result, actor=Actor.staff(personas.clinician_a)) is True
    result.refresh_from_db()
    assert result.released_by == personas.clinician_a
    assert len(_notices(personas.pat)) == 1
    # Releasing again changes nothing and tells nobody again.
    assert committed(result_release, result=result, actor=Actor.staff(personas.admin)) is False
    assert len(_notices(personas.pat)) == 1


def test_the_notice_says_a_result_is_ready_never_its_test_or_value(personas, committed):
    committed(result_for, patient=personas.pat, user=personas.clinician_a, value="5.47", comment="Looks good")
    committed(result_for, patient=personas.quinn, user=personas.admin, value="5.47")
    english, spanish = _notices(personas.pat)[0].body, _notices(personas.quinn)[0].body
    for body in (english, spanish):
        for secret in ("5.47", "A1c", "HBA1C", "Hemoglobin", "%", "Looks good", "normal"):
            assert secret not in body
        assert "/portal/results/" in body
    assert english.startswith("Hi Pat, you have a new test result")
    assert spanish.startswith("Hola Quinn")


def test_the_notice_goes_by_email_when_the_patient_prefers_it_for_care(personas, committed):
    ContactPreference.objects.create(
        patient=personas.pat, purpose="care", channel="email", recorded_by=personas.front_a,
        recorded_at=timezone.now(),
    )  # fmt: skip
    committed(result_for, patient=personas.pat, user=personas.clinician_a)
    [notice] = _notices(personas.pat)
    assert notice.to_address == "pat@example.test"
    assert notice.subject == "A new test result is ready"


def test_a_delayed_rule_sets_a_due_time_that_the_sweep_releases(personas, committed, clock):
    _rule(personas, "HBA1C", "delayed", hours=24)
    result = committed(result_for, patient=personas.pat, user=personas.clinician_a)
    result.refresh_from_db()
    assert result.released_at is None and result.release_due_at == timezone.now() + timedelta(hours=24)
    clock.shift(timedelta(hours=23))
    assert committed(results_release_due) == 0
    clock.shift(timedelta(hours=2))
    assert committed(results_release_due) == 1
    result.refresh_from_db()
    assert result.released_at is not None and result.released_by is None and result.release_due_at is None
    assert len(_notices(personas.pat)) == 1
    assert committed(results_release_due) == 0  # a second sweep finds nothing
    assert len(_notices(personas.pat)) == 1


def test_a_held_rule_keeps_even_normal_results_for_a_clinician(personas, committed, clock):
    _rule(personas, "HIV", "held")
    result = committed(result_for, patient=personas.pat, user=personas.clinician_a, test_code="HIV")
    clock.shift(timedelta(days=30))
    assert committed(results_release_due) == 0
    result.refresh_from_db()
    assert result.released_at is None


def test_release_all_normal_releases_the_normal_ones_with_one_notice(personas, committed):
    _rule(personas, "HBA1C", "held")
    first = result_for(personas.pat, personas.clinician_a, value="5.0")
    second = result_for(personas.pat, personas.clinician_a, value="5.1")
    high = result_for(personas.pat, personas.clinician_a, value="8.0")
    other = result_for(personas.quinn, personas.admin, value="5.0")
    count = committed(results_release_normal, patient=personas.pat, actor=Actor.staff(personas.clinician_a))
    assert count == 2
    released = set(LabResult.objects.filter(released_at__isnull=False).values_list("pk", flat=True))
    assert released == {first.pk, second.pk}
    assert high.pk not in released and other.pk not in released
    assert len(_notices(personas.pat)) == 1


def test_a_result_in_error_is_never_released(personas, committed):
    result = result_for(personas.pat, personas.clinician_a, value="9.0")
    values = {**{k: getattr(result, k) for k in LabResult.TRACKED}, "status": "entered_in_error", "flag": ""}
    amended = committed(
        result_amend, result=result, values=values, reason="Wrong patient", actor=Actor.staff(personas.admin)
    )
    with pytest.raises(ValidationError):
        result_release(result=amended, actor=Actor.staff(personas.admin))
    assert committed(results_release_normal, patient=personas.pat, actor=Actor.staff(personas.admin)) == 0


def test_an_amended_unreleased_result_is_planned_again(personas, committed):
    result = committed(result_for, patient=personas.pat, user=personas.clinician_a, value="9.0")
    values = {k: getattr(result, k) for k in LabResult.TRACKED} | {"value": "5.0", "flag": ""}
    amended = committed(
        result_amend,
        result=result,
        values=values,
        reason="Typo in the value",
        actor=Actor.staff(personas.admin),
    )
    amended.refresh_from_db()
    assert amended.flag == "normal" and amended.released_at is not None and amended.version == 2


def test_the_trend_has_only_released_values_with_their_ranges_oldest_first(personas, clock):
    _rule(personas, "HBA1C", "held")
    values = ["7.2", "6.8", "6.1", "5.7"]
    results = []
    for index, value in enumerate(values):
        results.append(
            result_for(
                personas.pat, personas.clinician_a, value=value,
                collected_at=timezone.now() - timedelta(days=90 * (4 - index)),
            )
        )  # fmt: skip
    for result in results[:3]:
        result_release(result=result, actor=Actor.staff(personas.clinician_a))
    trend = result_trend(personas.pat, "HBA1C")
    assert [p.value for p in trend] == ["7.2", "6.8", "6.1"]
    assert trend[0].low == Decimal("4.0") and trend[0].high == Decimal("5.6")
    assert list(released_results_for_patient(personas.quinn)) == []
    assert results[3] not in list(released_results_for_patient(personas.pat))


def test_the_release_sweep_runs_on_beat_by_its_registered_name():
    from careline.celery import _beat_schedule, app

    assert "records.results_release_sweep" in {entry["task"] for entry in _beat_schedule().values()}
    assert "records.results_release_sweep" in app.tasks


def test_the_release_sweep_task_releases_what_is_due(personas, committed, clock):
    from careline.records.tasks import sweep_results_release

    _rule(personas, "HBA1C", "delayed", hours=1)
    result = committed(result_for, patient=personas.pat, user=personas.clinician_a)
    clock.shift(timedelta(hours=2))
    with_commit = committed(sweep_results_release.apply)
    assert with_commit.result == 1
    result.refresh_from_db()
    assert result.released_at is not None


def test_a_failing_notice_leaves_the_release_in_place(personas, committed, monkeypatch):
    from careline.records.services import results as result_services

    def broken(**kwargs):
        raise RuntimeError("provider down")

    monkeypatch.setattr(result_services, "results_ready_notify", broken)
    held = result_for(personas.pat, personas.clinician_a, value="9.0")
    assert committed(result_release, result=held, actor=Actor.staff(personas.clinician_a)) is True
    held.refresh_from_db()
    assert held.released_at is not None


def test_a_patient_without_a_number_or_email_is_released_without_a_notice(personas, committed):
    personas.quinn.phones.all().delete()
    result = committed(result_for, patient=personas.quinn, user=personas.admin)
    result.refresh_from_db()
    assert result.released_at is not None
    assert not Message.objects.filter(patient=personas.quinn, direction="out", state="sent").exists()
