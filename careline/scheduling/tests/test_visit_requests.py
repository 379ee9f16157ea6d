"""Visit requests: made by the patient side, queued for the front desk, booked from the form or declined."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from careline.core.actor import Actor
from careline.core.models import AuditEntry
from careline.core.nav import nav_badge_count
from careline.messaging.models import Message
from careline.scheduling.models import (
    AppointmentType,
    DeclineReason,
    VisitRequest,
    VisitRequestState,
)
from careline.scheduling.services.visit_requests import (
    MAX_OPEN_PER_PATIENT,
    visit_request_book,
    visit_request_create,
    visit_request_decline,
    visit_request_decline_notify,
    visit_request_withdraw,
)
from careline.scheduling.tests.appointment_support import Schedule, book
from careline.scheduling.tests.replies_support import MONDAY, NOW, PAT_NUMBER, chicago, setup
from careline.testing.personas import Personas

pytestmark = [pytest.mark.clock(NOW)]

REASON = "Knee pain after the fall"  # clinical: staff may read it, the patient is never texted it


@pytest.fixture
def schedule(personas: Personas, clock: Any) -> Schedule:
    schedule = setup(personas)
    schedule.checkup.bookable_online = True
    schedule.checkup.save()
    return schedule


def _ask(personas: Personas, schedule: Schedule, actor: Actor | None = None, **fields: Any) -> VisitRequest:
    values: dict[str, Any] = {
        "patient": personas.pat, "appointment_type": schedule.checkup, "location": personas.location_a,
        "preferred_days": [0, 2], "preferred_times": ["morning"], "reason": REASON,
        "actor": actor or Actor.patient(personas.pat.pk),
    }  # fmt: skip
    values.update(fields)
    return visit_request_create(**values)


# --- services --------------------------------------------------------------------------------------------


def test_a_patient_asks_for_a_visit_and_it_is_audited(personas: Personas, schedule: Schedule) -> None:
    request = _ask(personas, schedule)
    assert request.state == VisitRequestState.OPEN
    assert request.preferred_days_labels == ["Monday", "Wednesday"]
    assert request.preferred_times_labels == ["Morning"]
    entry = AuditEntry.objects.get(object_type="scheduling.visitrequest", object_id=str(request.pk))
    assert entry.actor_kind == "patient" and entry.patient_id == personas.pat.pk
    assert REASON not in entry.detail


def test_a_caregiver_asks_for_the_patient(personas: Personas, schedule: Schedule) -> None:
    actor = Actor.caregiver(personas.pat_caregiver.pk, patient_id=personas.pat.pk)
    request = _ask(personas, schedule, actor=actor)
    assert request.requested_by_caregiver_id == personas.pat_caregiver.pk


def test_nobody_asks_for_another_patient(personas: Personas, schedule: Schedule) -> None:
    for actor in (Actor.patient(personas.quinn.pk), Actor.staff(personas.front_a)):
        with pytest.raises(PermissionDenied):
            _ask(personas, schedule, actor=actor)
    assert not VisitRequest.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"preferred_days": [7]}, "preferred_days"),
        ({"preferred_days": ["x"]}, "preferred_days"),
        ({"preferred_times": ["midnight"]}, "preferred_times"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": "bad \u202e text"}, "reason"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(
    personas: Personas, schedule: Schedule, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _ask(personas, schedule, **fields)
    assert field in refused.value.error_dict
    assert not VisitRequest.objects.exists()


def test_only_types_bookable_online_and_offered_at_the_location(
    personas: Personas, schedule: Schedule
) -> None:
    private = AppointmentType.objects.create(name="Surgery consult")
    private.locations.add(personas.location_a)
    with pytest.raises(ValidationError, match="requested online"):
        _ask(personas, schedule, appointment_type=private)
    with pytest.raises(ValidationError, match="not offered at this location"):
        _ask(personas, schedule, location=personas.location_b)


def test_a_patient_has_at_most_a_few_open_requests(personas: Personas, schedule: Schedule) -> None:
    for _ in range(MAX_OPEN_PER_PATIENT):
        _ask(personas, schedule)
    with pytest.raises(ValidationError, match="several requests waiting"):
        _ask(personas, schedule)


def test_declining_tells_the_patient_the_fixed_reason_never_theirs(
    personas: Personas, schedule: Schedule
) -> None:
    request = _ask(personas, schedule)
    visit_request_decline(
        visit_request=request, reason=DeclineReason.NO_TIMES, actor=Actor.staff(personas.front_a)
    )
    visit_request_decline_notify(request.pk)
    request.refresh_from_db()
    assert request.state == VisitRequestState.DECLINED and request.handled_by == personas.front_a
    body = Message.objects.get(to_address=PAT_NUMBER, direction="out").body
    assert "We have no free times that fit the days and times you asked for." in body
    assert "Northside Clinic" in body and REASON not in body and "Knee" not in body
    visit_request_decline_notify(request.pk)  # a repeated notice is the same message
    assert Message.objects.filter(to_address=PAT_NUMBER).count() == 1


def test_a_handled_request_cannot_be_handled_again(personas: Personas, schedule: Schedule) -> None:
    request = _ask(personas, schedule)
    visit_request_withdraw(visit_request=request, actor=Actor.patient(personas.pat.pk))
    with pytest.raises(ValidationError, match="already been handled"):
        visit_request_decline(
            visit_request=request, reason=DeclineReason.CALL_US, actor=Actor.staff(personas.front_a)
        )
    request.refresh_from_db()
    assert request.state == VisitRequestState.WITHDRAWN


def test_a_decline_needs_one_of_the_fixed_reasons(personas: Personas, schedule: Schedule) -> None:
    request = _ask(personas, schedule)
    with pytest.raises(ValidationError):
        visit_request_decline(visit_request=request, reason="your knee", actor=Actor.staff(personas.front_a))


def test_booking_marks_the_request_booked_with_its_visit(personas: Personas, schedule: Schedule) -> None:
    request = _ask(personas, schedule)
    appointment = book(schedule, chicago(MONDAY, 9), notify=False)
    visit_request_book(visit_request=request, appointment=appointment, actor=Actor.staff(personas.front_a))
    request.refresh_from_db()
    assert request.state == VisitRequestState.BOOKED and request.appointment == appointment


# --- the queue page --------------------------------------------------------------------------------------


def test_the_queue_lists_open_requests_with_the_reason_for_staff(
    personas: Personas, schedule: Schedule, client_for: Any
) -> None:
    _ask(personas, schedule)
    response = client_for(personas.front_a).get(reverse("scheduling:visit_requests"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Pat" in page and REASON in page and "Monday, Wednesday" in page
    assert f"visit_request={VisitRequest.objects.get().pk}" in page
    assert AuditEntry.objects.filter(
        patient_id=personas.pat.pk, detail__startswith="visit request queue"
    ).exists()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("admin", True),
        ("front_a", True),
        ("clinician_a", True),
        ("billing_a", False),
        ("front_b", True),
        (None, False),
    ],
)
def test_queue_access_per_role(
    personas: Personas, schedule: Schedule, client_for: Any, role: str | None, allowed: bool
) -> None:
    _ask(personas, schedule)
    user = getattr(personas, role) if role else None
    response = client_for(user).get(reverse("scheduling:visit_requests"))
    if not allowed:
        assert response.status_code in (302, 403)
        return
    assert response.status_code == 200
    # Front desk at B sees the queue, but not location A's patient.
    assert (REASON in response.content.decode()) == (role != "front_b")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("admin", True),
        ("front_a", True),
        ("clinician_a", True),
        ("billing_a", False),
        ("front_b", False),
        (None, False),
    ],
)
def test_decline_access_per_role(
    personas: Personas, schedule: Schedule, client_for: Any, role: str | None, allowed: bool
) -> None:
    request = _ask(personas, schedule)
    user = getattr(personas, role) if role else None
    url = reverse("scheduling:visit_request_decline", args=[request.pk])
    response = client_for(user).post(url, {"reason": DeclineReason.CALL_US})
    request.refresh_from_db()
    assert (request.state == VisitRequestState.DECLINED) == allowed
    if allowed:
        assert response.status_code == 302 and response["Location"] == reverse("scheduling:visit_requests")
    else:
        assert response.status_code in (302, 403) and request.handled_by is None


def test_the_queue_filters_by_location_and_state(
    personas: Personas, schedule: Schedule, client_for: Any
) -> None:
    request = _ask(personas, schedule)
    client = client_for(personas.admin)
    url = reverse("scheduling:visit_requests")
    assert REASON not in client.get(url, {"location": personas.location_b.pk}).content.decode()
    assert REASON in client.get(url, {"location": personas.location_a.pk}).content.decode()
    assert REASON not in client.get(url, {"state": "declined"}).content.decode()
    visit_request_decline(
        visit_request=request, reason=DeclineReason.CALL_US, actor=Actor.staff(personas.admin)
    )
    assert REASON in client.get(url, {"state": "declined"}).content.decode()
    assert client.get(url, {"state": "nonsense", "location": "x"}).status_code == 200
    # Another location's filter for someone who may not see it.
    assert client_for(personas.front_b).get(url, {"location": personas.location_a.pk}).status_code == 403


def test_the_queue_costs_the_same_queries_for_one_or_many(
    personas: Personas, schedule: Schedule, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(personas.front_a)
    url = reverse("scheduling:visit_requests")
    _ask(personas, schedule)
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(MAX_OPEN_PER_PATIENT - 1):
        _ask(personas, schedule)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(url)


def test_booking_from_the_queue_opens_the_form_prefilled_and_marks_the_request(
    personas: Personas, schedule: Schedule, client_for: Any
) -> None:
    request = _ask(personas, schedule)
    client = client_for(personas.front_a)
    url = (
        f"{reverse('scheduling:book')}?patient={personas.pat.pk}&type={schedule.checkup.pk}"
        f"&location={personas.location_a.pk}&visit_request={request.pk}"
    )
    page = client.get(url).content.decode()
    assert "From a visit request" in page and REASON in page
    response = client.post(
        url,
        {
            "patient": personas.pat.pk, "appointment_type": schedule.checkup.pk,
            "clinician": personas.clinician_a.pk, "location": personas.location_a.pk,
            "date": "2031-01-06", "time": "10:00",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    request.refresh_from_db()
    assert request.state == VisitRequestState.BOOKED and request.appointment is not None
    assert request.handled_by == personas.front_a


def test_the_nav_badge_counts_open_requests_the_person_may_book(
    personas: Personas, schedule: Schedule
) -> None:
    _ask(personas, schedule)
    assert nav_badge_count("visit_requests", personas.front_a) == 1
    assert nav_badge_count("visit_requests", personas.front_b) == 0
    assert nav_badge_count("visit_requests", personas.billing_a) is None


def test_the_decline_notice_is_in_the_patients_language(personas: Personas, schedule: Schedule) -> None:
    from careline.scheduling.tests.replies_support import patient_with_phone

    ana = patient_with_phone(personas, "Ana", "+13125550188", language="es")
    request = _ask(personas, schedule, patient=ana, actor=Actor.patient(ana.pk))
    visit_request_decline(
        visit_request=request, reason=DeclineReason.CALL_US, actor=Actor.staff(personas.front_a)
    )
    visit_request_decline_notify(request.pk)
    body = Message.objects.get(to_address="+13125550188", direction="out").body
    assert body == (
        "Hola, Ana: no pudimos reservar la cita que pidió en Northside Clinic. Necesitamos hablar con usted "
        "para encontrar la cita adecuada. Llámenos al (312) 555-0100, por favor."
    )
