"""Staff training: quiz scoring, protocol versions, recurrence, onboarding, reminders, dashboard and export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from careline.core.actor import Actor
from careline.core.permissions import Role
from careline.testing.personas import sign_in
from careline.training.models import (
    Assignment,
    Completion,
    Course,
    LessonRead,
    Onboarding,
    Question,
    Reminder,
    ReminderKind,
    Task,
    TaskState,
)
from careline.training.reminders import reminder_send, reminders_plan
from careline.training.services import (
    add_months,
    course_next_lesson,
    lesson_mark_read,
    onboarding_give,
    protocol_acknowledge,
    protocol_publish,
    quiz_score,
    quiz_submit,
)
from careline.training.tests.support import (
    assign,
    author,
    course_with_quiz,
    protocol_published,
    right_answers,
    wrong_answers,
)

NOON = datetime(2031, 3, 10, 18, 0, tzinfo=UTC)  # 10 March 2031, noon in Chicago
pytestmark = [pytest.mark.clock(NOON)]


def _read_all(user, course: Course) -> None:
    while (lesson := course_next_lesson(user=user, course=course)) is not None:
        lesson_mark_read(user=user, lesson=lesson)


def _pass(user, course: Course) -> Completion:
    _read_all(user, course)
    return quiz_submit(user=user, course=course, answers=right_answers(course), actor=Actor.staff(user))


# --- quiz scoring ------------------------------------------------------------------------------------------


def test_all_right_answers_score_100_and_pass(personas, clock):
    course = course_with_quiz(personas)
    assert quiz_score(course, right_answers(course)) == (100, True)
    assert quiz_score(course, wrong_answers(course)) == (0, False)


def test_a_partly_right_quiz_scores_the_share_of_questions_right(personas, clock):
    course = course_with_quiz(personas, questions=4)
    answers = right_answers(course)
    last = list(course.questions.all())[-1]
    answers[last.pk] = [choice.pk for choice in last.choices.all() if not choice.is_correct]
    assert quiz_score(course, answers) == (75, False)  # pass mark 80


def test_a_question_with_several_right_answers_needs_every_one_and_no_wrong_one(personas, clock):
    course = course_with_quiz(personas, questions=1)
    question = course.questions.get()
    right = [choice.pk for choice in question.choices.all() if choice.is_correct]
    wrong = [choice.pk for choice in question.choices.all() if not choice.is_correct]
    assert len(right) == 2
    assert quiz_score(course, {question.pk: right}) == (100, True)
    assert quiz_score(course, {question.pk: right[:1]}) == (0, False)
    assert quiz_score(course, {question.pk: right + wrong}) == (0, False)
    assert quiz_score(course, {}) == (0, False)


def test_the_pass_mark_is_compared_exactly_not_after_rounding(personas, clock):
    course = course_with_quiz(personas, questions=3)
    answers = right_answers(course)
    first = course.questions.first()
    answers[first.pk] = []  # 2 of 3 right: 66.67%
    course.pass_mark = 66
    assert quiz_score(course, answers) == (66, True)
    course.pass_mark = 67
    assert quiz_score(course, answers) == (66, False)


def test_the_quiz_waits_until_every_lesson_is_read(personas, clock):
    course = course_with_quiz(personas)
    with pytest.raises(ValidationError):
        quiz_submit(
            user=personas.front_a, course=course, answers=right_answers(course), actor=author(personas)
        )
    assert not Completion.objects.exists()


# --- protocols ---------------------------------------------------------------------------------------------


def test_a_new_protocol_version_asks_everyone_again_and_keeps_earlier_acknowledgements(personas, clock):
    protocol = protocol_published(personas)
    assign(personas, protocol=protocol)
    v1 = protocol.current_version()
    protocol_acknowledge(user=personas.front_a, version=v1, actor=Actor.staff(personas.front_a))
    assert Task.objects.get(user=personas.front_a).state == TaskState.DONE

    clock.shift(timedelta(days=30))
    v2 = protocol_publish(
        protocol=protocol, body="Never quote a balance; send the portal link.", actor=author(personas)
    )

    open_tasks = Task.objects.filter(state=TaskState.OPEN).order_by("user__email")
    assert {(task.user, task.protocol_version) for task in open_tasks} == {
        (personas.front_a, v2),
        (personas.front_b, v2),
    }
    # front_b never acknowledged v1: that task is superseded, not left open beside v2's.
    assert Task.objects.get(user=personas.front_b, protocol_version=v1).state == TaskState.SUPERSEDED
    with pytest.raises(ValidationError):
        protocol_acknowledge(user=personas.front_b, version=v1, actor=Actor.staff(personas.front_b))
    protocol_acknowledge(user=personas.front_a, version=v2, actor=Actor.staff(personas.front_a))
    assert sorted(Completion.objects.filter(user=personas.front_a).values_list("version", flat=True)) == [
        1,
        2,
    ]


def test_acknowledging_on_the_page_records_the_version_read(personas, clock):
    protocol = protocol_published(personas)
    client = sign_in(Client(), personas.clinician_a)
    url = reverse("training:protocol", args=[protocol.pk])
    assert b"Never quote a balance" in client.get(url).content
    response = client.post(url, {"version": "1"})
    assert response.status_code == 302
    assert Completion.objects.get(user=personas.clinician_a).version == 1
    assert b"Acknowledged" in client.get(url).content


def test_acknowledging_a_version_that_is_no_longer_current_is_refused_on_the_page(personas, clock):
    protocol = protocol_published(personas)
    protocol_publish(protocol=protocol, body="Version two", actor=author(personas))
    client = sign_in(Client(), personas.clinician_a)
    url = reverse("training:protocol", args=[protocol.pk])
    for data in ({"version": "1"}, {"version": "nine"}, {}):
        response = client.post(url, data)
        assert response.status_code == 400
    assert not Completion.objects.exists()


# --- recurrence --------------------------------------------------------------------------------------------


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(date(2031, 3, 10), 12) == date(2032, 3, 10)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2031, 8, 31), 6) == date(2032, 2, 29)
    assert add_months(date(2031, 11, 30), 3) == date(2032, 2, 29)


def test_an_annual_course_passed_is_due_again_a_year_later(personas, clock):
    course = course_with_quiz(personas)
    assign(personas, course=course, people=[personas.front_a], recurrence_months=12)
    _pass(personas.front_a, course)
    done = Task.objects.get(user=personas.front_a, state=TaskState.DONE)
    following = Task.objects.get(user=personas.front_a, state=TaskState.OPEN)
    assert done.due_on == date(2031, 3, 24)
    assert following.due_on == date(2032, 3, 10)


@pytest.mark.clock(datetime(2028, 2, 29, 18, 0, tzinfo=UTC))
def test_an_annual_course_passed_on_february_29_is_due_again_on_february_28(personas, clock):
    course = course_with_quiz(personas)
    assign(personas, course=course, people=[personas.front_a], recurrence_months=12)
    _pass(personas.front_a, course)
    assert Task.objects.get(user=personas.front_a, state=TaskState.OPEN).due_on == date(2029, 2, 28)


def test_a_failed_attempt_completes_nothing_and_a_retake_can_pass(personas, clock):
    course = course_with_quiz(personas)
    assign(personas, course=course, people=[personas.front_a], recurrence_months=12)
    _read_all(personas.front_a, course)
    failed = quiz_submit(
        user=personas.front_a, course=course, answers=wrong_answers(course), actor=author(personas)
    )
    assert (failed.score, failed.passed) == (0, False)
    assert Task.objects.get(user=personas.front_a).state == TaskState.OPEN
    passed = quiz_submit(
        user=personas.front_a, course=course, answers=right_answers(course), actor=author(personas)
    )
    assert passed.passed and Task.objects.filter(user=personas.front_a, state=TaskState.DONE).count() == 1


def test_a_one_off_course_done_is_not_given_again_by_the_sweep(personas, clock):
    from careline.training.services import assignments_apply

    course = course_with_quiz(personas)
    assign(personas, course=course, people=[personas.front_a])
    _pass(personas.front_a, course)
    assert assignments_apply() == 0
    assert not Task.objects.filter(state=TaskState.OPEN).exists()


# --- onboarding --------------------------------------------------------------------------------------------


def test_onboarding_is_given_at_the_first_sign_in_only(personas, clock):
    course = course_with_quiz(personas)
    assign(personas, course=course, role=Role.CLINICIAN, on_first_sign_in=True, due_days=7)
    assert not Task.objects.exists()  # waits for the sign-in
    Onboarding.objects.filter(user=personas.clinician_a).delete()

    sign_in(Client(), personas.clinician_a)
    task = Task.objects.get(user=personas.clinician_a)
    assert task.due_on == date(2031, 3, 17)
    _pass(personas.clinician_a, course)

    sign_in(Client(), personas.clinician_a)
    assert onboarding_give(user=personas.clinician_a) == 0
    assert Task.objects.filter(user=personas.clinician_a).count() == 1
    assert not Task.objects.exclude(user=personas.clinician_a).exists()  # front desk and billing: not named


# --- reminders ---------------------------------------------------------------------------------------------


@pytest.fixture
def due_task(personas, clock, django_capture_on_commit_callbacks):
    course = course_with_quiz(personas)
    assign(personas, course=course, people=[personas.front_a], due_date=date(2031, 3, 20))
    return Task.objects.get(user=personas.front_a)


def _plan_and_send(capture) -> list[int]:
    with capture(execute=True):
        return reminders_plan()


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2031, 3, 13), ReminderKind.BEFORE),  # 7 days before
        (date(2031, 3, 14), None),
        (date(2031, 3, 19), ReminderKind.BEFORE),  # 1 day before
        (date(2031, 3, 20), None),  # the due day
        (date(2031, 3, 21), ReminderKind.OVERDUE),  # the day after
        (date(2031, 3, 25), None),
        (date(2031, 3, 28), ReminderKind.OVERDUE),  # a week later
    ],
)
def test_reminders_go_before_the_due_date_and_weekly_once_overdue(
    due_task, clock, django_capture_on_commit_callbacks, day, kind
):
    clock.move_to(datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=18), tick=False)
    written = _plan_and_send(django_capture_on_commit_callbacks)
    if kind is None:
        assert written == [] and mail.outbox == []
        return
    reminder = Reminder.objects.get()
    assert reminder.kind == kind and reminder.state == "sent"
    [email] = mail.outbox
    assert email.to == [due_task.user.email]
    assert "HIPAA privacy essentials" in email.subject
    assert reverse("training:mine") in email.body


def test_a_reminder_goes_once_a_day_however_many_sweeps_and_workers(
    due_task, clock, django_capture_on_commit_callbacks
):
    clock.move_to(datetime(2031, 3, 19, 15, 0, tzinfo=UTC), tick=False)
    first = _plan_and_send(django_capture_on_commit_callbacks)
    second = _plan_and_send(django_capture_on_commit_callbacks)
    assert len(first) == 1 and second == []
    assert reminder_send(first[0]) == ""  # a second worker holding the same id claims nothing
    assert len(mail.outbox) == 1


def test_a_done_task_gets_no_reminder(due_task, personas, clock, django_capture_on_commit_callbacks):
    _pass(personas.front_a, due_task.course)
    clock.move_to(datetime(2031, 3, 21, 15, 0, tzinfo=UTC), tick=False)
    assert _plan_and_send(django_capture_on_commit_callbacks) == []


# --- dashboard and export ----------------------------------------------------------------------------------


def test_the_dashboard_lists_who_is_overdue_under_their_location(personas, clock):
    course = course_with_quiz(personas)
    assign(personas, course=course, due_days=3)  # front_a (A) and front_b (B)
    _pass(personas.front_b, course)
    clock.shift(timedelta(days=5))
    response = sign_in(Client(), personas.admin).get(reverse("training:dashboard"))
    assert response.status_code == 200
    groups = {group.location.name: group for group in response.context["groups"] if group.location}
    assert [task.user for task in groups[personas.location_a.name].tasks] == [personas.front_a]
    assert groups[personas.location_b.name].tasks == []
    assert personas.front_b.full_name not in response.content.decode()


def _csv(client: Client, **params) -> list[list[str]]:
    response = client.get(reverse("training:export"), params)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_export_lists_completions_filtered_by_location_dates_and_course(personas, clock):
    course = course_with_quiz(personas)
    other = Course.objects.create(title="Texting patients well", created_at=NOON, updated_at=NOON)
    _pass(personas.front_a, course)
    clock.shift(timedelta(days=2))
    _pass(personas.front_b, course)
    _pass(personas.front_b, other)
    client = sign_in(Client(), personas.admin)

    header, *rows = _csv(client)
    assert header == ["Completed at", "Person", "Email", "Kind", "Title", "Version", "Score", "Passed"]
    assert len(rows) == 3
    assert rows[0][1:] == [
        personas.front_a.full_name,
        personas.front_a.email,
        "course",
        course.title,
        str(course.version),
        "100",
        "yes",
    ]
    assert [row[1] for row in _csv(client, location=personas.location_a.pk)[1:]] == [
        personas.front_a.full_name
    ]
    assert [row[4] for row in _csv(client, course=other.pk)[1:]] == ["Texting patients well"]
    assert len(_csv(client, since="2031-03-11", until="2031-03-31")[1:]) == 2
    assert len(_csv(client, until="2031-03-10")[1:]) == 1


def test_the_export_refuses_bad_filters_with_a_message(personas, clock):
    client = sign_in(Client(), personas.admin)
    for params in (
        {"since": "yesterday"},
        {"since": "2031-03-10", "until": "2031-03-01"},
        {"course": "999999"},
    ):
        response = client.get(reverse("training:export"), params)
        assert response.status_code == 400 and b"Bad filters" in response.content


# --- pages -------------------------------------------------------------------------------------------------


def test_taking_a_course_on_its_page_lessons_in_order_then_the_quiz_and_a_retake(personas, clock):
    course = course_with_quiz(personas)
    assign(personas, course=course, people=[personas.front_a])
    client = sign_in(Client(), personas.front_a)
    mine = client.get(reverse("training:mine")).content.decode()
    assert course.title in mine and "My training" in mine
    url = reverse("training:course", args=[course.pk])
    page = client.get(url).content.decode()
    assert "<strong>private</strong>" in page and "Quiz" not in page
    lesson = course.lessons.get()
    assert client.post(url, {"lesson": lesson.pk}).status_code == 302
    wrong = {f"q{q}": choices for q, choices in wrong_answers(course).items()}
    failed = client.post(url, wrong)
    assert failed.status_code == 200 and b"Not passed" in failed.content and b"0%" in failed.content
    right = {f"q{q}": choices for q, choices in right_answers(course).items()}
    passed = client.post(url, right)
    assert b"Passed" in passed.content and b"100%" in passed.content
    assert Task.objects.get(user=personas.front_a).state == TaskState.DONE


def test_a_lesson_out_of_order_or_unknown_is_refused_and_changes_nothing(personas, clock):
    course = course_with_quiz(personas)
    second = course.lessons.create(position=2, title="Second", kind="text", body="Two")
    client = sign_in(Client(), personas.front_a)
    url = reverse("training:course", args=[course.pk])
    for value in (second.pk, "x", 999999):
        assert client.post(url, {"lesson": value}).status_code == 302
    assert not LessonRead.objects.exists()
    assert client.post(url, {"q1": "1"}).status_code == 400  # the quiz before the lessons
    assert not Completion.objects.exists()


def test_a_quiz_answer_naming_another_questions_choice_counts_for_nothing(personas, clock):
    course = course_with_quiz(personas, questions=2)
    _read_all(personas.front_a, course)
    first, second = course.questions.all()
    client = sign_in(Client(), personas.front_a)
    data = {f"q{first.pk}": [c.pk for c in second.choices.all() if c.is_correct]}
    assert client.post(reverse("training:course", args=[course.pk]), data).status_code == 200
    assert Completion.objects.get().score == 0


def test_authoring_a_course_lesson_question_and_assignment_through_the_pages(personas, clock):
    client = sign_in(Client(), personas.admin)
    response = client.post(
        reverse("training:course_create"),
        {"title": "Texting patients well", "pass_mark": 75, "is_active": "on"},
    )
    course = Course.objects.get(title="Texting patients well")
    assert response.status_code == 302
    client.post(
        reverse("training:lesson_create", args=[course.pk]),
        {"title": "Tone", "kind": "text", "body": "Be kind."},
    )
    client.post(
        reverse("training:question_create", args=[course.pk]),
        {"text": "Which are kind?", "choices": "* Thanks for writing\n* Happy to help\nGo away"},
    )
    assert course.lessons.get().title == "Tone"
    question = Question.objects.get(course=course)
    assert [(c.text, c.is_correct) for c in question.choices.all()] == [
        ("Thanks for writing", True), ("Happy to help", True), ("Go away", False),
    ]  # fmt: skip
    response = client.post(
        reverse("training:assignment_create"),
        {
            "course": course.pk,
            "role": Role.BILLING,
            "due_days": 10,
            "recurrence_months": 12,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert Task.objects.get(course=course).user == personas.billing_a
    from careline.core.models import AuditEntry

    assert sorted(
        AuditEntry.objects.filter(detail__startswith="training ").values_list("actor_id", "detail")
    ) == [
        (personas.admin.pk, f"training {noun} added")
        for noun in sorted(["assignment", "course", "lesson", "quiz question"])
    ]


def test_bad_authoring_input_gets_a_message_and_changes_nothing(personas, clock):
    course = course_with_quiz(personas)
    client = sign_in(Client(), personas.admin)
    questions, assignments = Question.objects.count(), Assignment.objects.count()
    cases = [
        (reverse("training:course_create"), {"title": "", "pass_mark": 150}),
        (
            reverse("training:lesson_create", args=[course.pk]),
            {"title": "Video", "kind": "video", "video_url": "http://x.test/v"},
        ),
        (reverse("training:lesson_create", args=[course.pk]), {"title": "Empty", "kind": "text", "body": ""}),
        (
            reverse("training:question_create", args=[course.pk]),
            {"text": "No right answer", "choices": "A\nB"},
        ),
        (reverse("training:question_create", args=[course.pk]), {"text": "One answer", "choices": "* A"}),
        (
            reverse("training:assignment_create"),
            {"role": Role.BILLING, "due_days": 10, "recurrence_months": 0},
        ),
        (
            reverse("training:assignment_create"),
            {"course": course.pk, "due_days": 10, "recurrence_months": 0},
        ),
        (
            reverse("training:assignment_create"),
            {"course": course.pk, "role": Role.BILLING, "recurrence_months": 0},
        ),
        (
            reverse("training:assignment_create"),
            {"course": course.pk, "role": "nurse", "due_days": 5, "recurrence_months": 0},
        ),
        (reverse("training:protocol_create"), {"title": "  "}),
    ]
    for url, data in cases:
        response = client.post(url, data)
        assert response.status_code == 400, (url, data)
        assert b'class="error' in response.content or b"errorlist" in response.content, (url, data)
    assert Course.objects.count() == 1 and course.lessons.count() == 1
    assert (Question.objects.count(), Assignment.objects.count()) == (questions, assignments)


def test_publishing_an_empty_version_is_refused(personas, clock):
    protocol = protocol_published(personas)
    client = sign_in(Client(), personas.admin)
    response = client.post(
        reverse("training:protocol_edit", args=[protocol.pk]), {"publish": "1", "body": "  "}
    )
    assert response.status_code == 400
    assert protocol.versions.count() == 1


def test_staff_without_training_manage_cannot_reach_the_manager_pages(personas, clock):
    client = sign_in(Client(), personas.clinician_a)
    for name in ("training:dashboard", "training:export", "training:manage", "training:course_create"):
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("training:mine")).status_code == 200
    outsider = Client().get(reverse("training:mine"))
    assert outsider.status_code == 302 and "/login" in outsider["Location"]


def test_an_assignment_moved_to_another_course_withdraws_the_open_tasks_of_the_old_one(personas, clock):
    from careline.training.services import assignment_save

    course = course_with_quiz(personas)
    other = Course.objects.create(title="Texting patients well", created_at=NOON, updated_at=NOON)
    assignment = assign(personas, course=course, people=[personas.front_a])
    assignment_save(
        assignment=assignment, values={"course": other}, people=[personas.front_a], actor=author(personas)
    )
    assert {(task.course.title, task.state) for task in Task.objects.all()} == {
        (course.title, TaskState.WITHDRAWN),
        (other.title, TaskState.OPEN),
    }
