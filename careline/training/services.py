"""Writes of staff training: authoring, assignments and their tasks, taking a course, acknowledging a protocol.

A task is one person's obligation from an assignment. Tasks are made when an assignment is saved, by the
sweep (staff who joined a role later), at a first sign-in (onboarding assignments only), when a protocol's
new version is published, and when a recurring task is done (the next one, RECURRENCE months later).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from careline.accounts.models import User
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.records.services.documents import document_content_checked
from careline.training.models import (
    Assignment,
    Choice,
    Completion,
    Course,
    Lesson,
    LessonKind,
    LessonRead,
    Onboarding,
    Protocol,
    ProtocolVersion,
    Question,
    Task,
    TaskState,
)

DEFAULT_DUE_DAYS = 30


def add_months(day: date, months: int) -> date:
    """DAY moved MONTHS months on; a day the month lacks (Feb 29 in a common year) becomes its last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- quiz scoring ------------------------------------------------------------------------------------------


def quiz_score(course: Course, answers: Mapping[int, Iterable[int]]) -> tuple[int | None, bool]:
    """(score in percent rounded down, passed) for ANSWERS (question id -> chosen choice ids).

    A question counts as right only when exactly its right choices were chosen. Passing compares exact
    fractions (right * 100 >= pass mark * questions), so rounding never passes someone just under the mark.
    A course without questions has no score and is passed by reading its lessons.
    """
    questions = list(course.questions.prefetch_related("choices"))
    if not questions:
        return None, True
    right = 0
    for question in questions:
        correct = {choice.pk for choice in question.choices.all() if choice.is_correct}
        chosen = {int(pk) for pk in answers.get(question.pk, ())}
        if chosen == correct:
            right += 1
    return right * 100 // len(questions), right * 100 >= course.pass_mark * len(questions)


# --- authoring ---------------------------------------------------------------------------------------------


def _course_changed(course: Course) -> None:
    Course.objects.filter(pk=course.pk).update(version=course.version + 1, updated_at=timezone.now())
    course.refresh_from_db()


def course_save(*, course: Course | None, values: Mapping[str, Any], actor: Actor) -> Course:
    """Create COURSE (None) or change its title, summary, pass mark and whether it is offered (audited)."""
    now = timezone.now()
    creating = course is None
    if course is None:
        course = Course(created_at=now)
    for name in ("title", "summary", "pass_mark", "is_active"):
        if name in values:
            setattr(course, name, values[name])
    course.title = (course.title or "").strip()[:200]
    if not course.title:
        raise ValidationError({"title": "Give the course a title."})
    if not 0 <= int(course.pass_mark) <= 100:
        raise ValidationError({"pass_mark": "A pass mark is a percentage from 0 to 100."})
    course.updated_at = now
    with transaction.atomic():
        course.save()
        _audit_saved(actor, course, "course", creating=creating)
    return course


def _audit_saved(actor: Actor, obj: Any, noun: str, *, creating: bool) -> None:
    """The audit entry of an authoring change: "training NOUN added" or "... changed"."""
    audit_record(
        action=AuditAction.CREATE if creating else AuditAction.UPDATE,
        actor=actor,
        obj=obj,
        detail=f"training {noun} {'added' if creating else 'changed'}",
    )


def lesson_save(
    *,
    course: Course,
    lesson: Lesson | None,
    values: Mapping[str, Any],
    upload: IO[bytes] | None,
    original_name: str,
    size: int | None,
    actor: Actor,
) -> Lesson:
    """Add a lesson at the end of COURSE (LESSON None) or change one; a PDF is checked by its bytes."""
    creating = lesson is None
    if lesson is None:
        last = course.lessons.aggregate(last=Max("position"))["last"] or 0
        lesson = Lesson(course=course, position=last + 1)
    for name in ("title", "kind", "body", "video_url"):
        if name in values:
            setattr(lesson, name, values[name])
    if values.get("position"):
        lesson.position = int(values["position"])
    lesson.title = (lesson.title or "").strip()[:200]
    if not lesson.title:
        raise ValidationError({"title": "Give the lesson a title."})
    data = document_content_checked(upload, size=size) if upload is not None else None
    if lesson.kind == LessonKind.TEXT and not lesson.body.strip():
        raise ValidationError({"body": "Write the lesson's text."})
    if lesson.kind == LessonKind.PDF and not (data or lesson.file):
        raise ValidationError({"upload": "Choose the PDF file."})
    if lesson.kind == LessonKind.VIDEO and not lesson.video_url.startswith("https://"):
        raise ValidationError({"video_url": "Give the video's https:// link."})
    with transaction.atomic():
        if data is not None:
            lesson.file = ContentFile(data, name="lesson.pdf")
            lesson.original_name = (original_name or "")[:200]
        lesson.save()
        _course_changed(course)
        _audit_saved(actor, lesson, "lesson", creating=creating)
    return lesson


def question_save(
    *,
    course: Course,
    question: Question | None,
    text: str,
    choices: list[tuple[str, bool]],
    actor: Actor,
) -> Question:
    """Add a question to COURSE's quiz (QUESTION None) or change one, with its CHOICES (text, right?)."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Write the question."})
    choices = [(label.strip()[:300], right) for label, right in choices if label.strip()]
    if len(choices) < 2:
        raise ValidationError({"choices": "Give at least two answers."})
    if not any(right for _, right in choices):
        raise ValidationError({"choices": "Mark at least one answer right (start its line with '*')."})
    creating = question is None
    with transaction.atomic():
        if question is None:
            last = course.questions.aggregate(last=Max("position"))["last"] or 0
            question = Question(course=course, position=last + 1)
        question.text = text[:500]
        question.save()
        question.choices.all().delete()
        Choice.objects.bulk_create(
            [Choice(question=question, text=label, is_correct=right) for label, right in choices]
        )
        _course_changed(course)
        _audit_saved(actor, question, "quiz question", creating=creating)
    return question


def choices_parse(text: str) -> list[tuple[str, bool]]:
    """One answer a line; a line starting with '*' is a right answer."""
    parsed = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.strip()
        if line.startswith("*"):
            parsed.append((line[1:].strip(), True))
        elif line:
            parsed.append((line, False))
    return parsed


def protocol_save(*, protocol: Protocol | None, title: str, is_active: bool, actor: Actor) -> Protocol:
    """Create or rename PROTOCOL (its text is published as versions)."""
    title = title.strip()[:200]
    if not title:
        raise ValidationError({"title": "Give the protocol a title."})
    creating = protocol is None
    if protocol is None:
        protocol = Protocol(created_at=timezone.now())
    protocol.title, protocol.is_active = title, is_active
    with transaction.atomic():
        protocol.save()
        _audit_saved(actor, protocol, "protocol", creating=creating)
    return protocol


def protocol_publish(
    *, protocol: Protocol, body: str, actor: Actor, today: date | None = None
) -> ProtocolVersion:
    """Publish BODY as PROTOCOL's next version: everyone it is assigned to must acknowledge it again.

    Open tasks for an earlier version are superseded; acknowledgements of earlier versions stay as they were.
    """
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write the protocol's text."})
    today = today or timezone.localdate()
    with transaction.atomic():
        Protocol.objects.select_for_update().filter(pk=protocol.pk).first()
        last = protocol.versions.aggregate(last=Max("number"))["last"] or 0
        version = ProtocolVersion.objects.create(
            protocol=protocol,
            number=last + 1,
            body=body,
            published_at=timezone.now(),
            published_by=actor.staff_user,
        )
        assignments = list(Assignment.objects.filter(protocol=protocol, is_active=True))
        for assignment in assignments:
            holders = list(
                Task.objects.filter(assignment=assignment).values_list("user_id", flat=True).distinct()
            )
            Task.objects.filter(assignment=assignment, state=TaskState.OPEN).update(
                state=TaskState.SUPERSEDED
            )
            pks = set(holders)
            if not assignment.on_first_sign_in:
                pks |= set(assignment_people(assignment).values_list("pk", flat=True))
            people = User.objects.filter(pk__in=pks, is_active=True).order_by("pk")
            _tasks_give(assignment, people, today=today, version=version)
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            obj=version,
            detail=f"training protocol version {version.number} published",
        )
    return version


# --- assignments and tasks ---------------------------------------------------------------------------------


def assignment_people(assignment: Assignment) -> QuerySet[User]:
    """The active staff ASSIGNMENT names: its role's holders or its named people, at its location if any."""
    people = User.objects.filter(is_active=True)
    if assignment.role:
        people = people.filter(role_rows__role=assignment.role)
    else:
        people = people.filter(pk__in=assignment.people.values("pk"))
    if assignment.location_id:
        people = people.filter(locations=assignment.location_id)
    return people.distinct()


def _due_on(assignment: Assignment, assigned_on: date) -> date:
    if assignment.due_date is not None and assignment.due_date >= assigned_on:
        return assignment.due_date
    days = assignment.due_days if assignment.due_days is not None else DEFAULT_DUE_DAYS
    return assigned_on + timedelta(days=days)


def _tasks_give(
    assignment: Assignment,
    people: Iterable[User],
    *,
    today: date,
    version: ProtocolVersion | None = None,
    due_on: date | None = None,
) -> int:
    """An open task of ASSIGNMENT for each of PEOPLE who has none (and has not done this version); how many."""
    if assignment.protocol_id and version is None:
        version = ProtocolVersion.objects.filter(protocol=assignment.protocol_id).order_by("-number").first()
        if version is None:
            return 0  # nothing published yet: tasks come with the first version
    given = 0
    for person in people:
        if Task.objects.filter(assignment=assignment, user=person, state=TaskState.OPEN).exists():
            continue
        done = Task.objects.filter(assignment=assignment, user=person, state=TaskState.DONE)
        if version is not None and done.filter(protocol_version=version).exists():
            continue
        if version is None and due_on is None and done.filter(course=assignment.course).exists():
            continue  # a done course is followed by its recurrence, not given again by the sweep
        try:
            with transaction.atomic():
                Task.objects.create(
                    assignment=assignment,
                    user=person,
                    course_id=assignment.course_id,
                    protocol_version=version,
                    assigned_on=today,
                    due_on=due_on or _due_on(assignment, today),
                )
        except IntegrityError:
            continue  # a concurrent sweep or sign-in gave it first
        given += 1
    return given


def assignment_save(
    *, assignment: Assignment | None, values: Mapping[str, Any], people: Iterable[User], actor: Actor
) -> Assignment:
    """Create or change ASSIGNMENT, then give its tasks (not for onboarding ones: they wait for a sign-in)."""
    creating = assignment is None
    if assignment is None:
        assignment = Assignment(created_by=actor.staff_user, created_at=timezone.now())
    before = (assignment.course_id, assignment.protocol_id)
    for name in (
        "course", "protocol", "role", "location", "due_days", "due_date", "recurrence_months",
        "on_first_sign_in", "is_active",
    ):  # fmt: skip
        if name in values:
            setattr(assignment, name, values[name])
    people = list(people)
    if (assignment.course is None) == (assignment.protocol is None):
        raise ValidationError({"course": "Choose a course or a protocol (one of them)."})
    if not assignment.role and not people:
        raise ValidationError({"role": "Choose a role or name the people."})
    if assignment.role and people:
        raise ValidationError({"people": "Choose a role or name people, not both."})
    if assignment.due_days is None and assignment.due_date is None:
        raise ValidationError({"due_days": "Give the days allowed or a fixed due date."})
    with transaction.atomic():
        assignment.save()
        assignment.people.set(people)
        if not creating and before != (assignment.course_id, assignment.protocol_id):
            # Another course or protocol: the open tasks were for the old one.
            Task.objects.filter(assignment=assignment, state=TaskState.OPEN).update(state=TaskState.WITHDRAWN)
        if not assignment.is_active:
            Task.objects.filter(assignment=assignment, state=TaskState.OPEN).update(state=TaskState.WITHDRAWN)
        elif not assignment.on_first_sign_in:
            _tasks_give(assignment, assignment_people(assignment), today=timezone.localdate())
        _audit_saved(actor, assignment, "assignment", creating=creating)
    return assignment


def assignments_apply(*, today: date | None = None) -> int:
    """Give the tasks of every active assignment (not onboarding) to whoever it names and lacks one."""
    today = today or timezone.localdate()
    given = 0
    assignments = Assignment.objects.filter(is_active=True, on_first_sign_in=False)
    for assignment in assignments.select_related("course", "protocol"):
        if assignment.course_id and not assignment.course.is_active:  # type: ignore[union-attr]
            continue
        given += _tasks_give(assignment, assignment_people(assignment), today=today)
    return given


def onboarding_give(*, user: User, today: date | None = None) -> int:
    """At USER's first sign-in (once ever), the onboarding assignments that name them; how many tasks."""
    try:
        with transaction.atomic():
            Onboarding.objects.create(user=user, given_at=timezone.now())
    except IntegrityError:
        return 0  # signed in before: onboarding was given then
    today = today or timezone.localdate()
    given = 0
    for assignment in Assignment.objects.filter(is_active=True, on_first_sign_in=True):
        if assignment_people(assignment).filter(pk=user.pk).exists():
            given += _tasks_give(assignment, [user], today=today)
    return given


def onboarding_on_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """user_logged_in receiver: onboarding for staff users (the portal's patients are not Users)."""
    if isinstance(user, User):
        onboarding_give(user=user)


# --- taking a course, acknowledging a protocol -------------------------------------------------------------


def lesson_mark_read(*, user: User, lesson: Lesson) -> None:
    """LESSON read by USER (again is harmless)."""
    LessonRead.objects.get_or_create(user=user, lesson=lesson, defaults={"read_at": timezone.now()})


def course_next_lesson(*, user: User, course: Course) -> Lesson | None:
    """The first lesson of COURSE that USER has not read; None when all are read (the quiz is next)."""
    read = LessonRead.objects.filter(user=user, lesson__course=course).values("lesson_id")
    return course.lessons.exclude(pk__in=read).first()


def _tasks_complete(tasks: QuerySet[Task], *, now: Any) -> None:
    """Mark TASKS done; a recurring one brings the next, due RECURRENCE months after the completion day."""
    today = timezone.localdate(now)
    for task in tasks.select_related("assignment"):
        done = Task.objects.filter(pk=task.pk, state=TaskState.OPEN).update(
            state=TaskState.DONE, completed_at=now
        )
        months = task.assignment.recurrence_months
        if done and months and task.assignment.is_active:
            _tasks_give(
                task.assignment,
                [task.user],
                today=today,
                version=task.protocol_version,
                due_on=add_months(today, months),
            )


def quiz_submit(
    *, user: User, course: Course, answers: Mapping[int, Iterable[int]], actor: Actor
) -> Completion:
    """Record USER's attempt at COURSE (pass or fail); a pass completes their open tasks for it."""
    if course_next_lesson(user=user, course=course) is not None:
        raise ValidationError("Read every lesson before the quiz.")
    score, passed = quiz_score(course, answers)
    now = timezone.now()
    with transaction.atomic():
        completion = Completion.objects.create(
            user=user, course=course, version=course.version, score=score, passed=passed, completed_at=now
        )
        if passed:
            _tasks_complete(Task.objects.filter(user=user, course=course, state=TaskState.OPEN), now=now)
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            obj=completion,
            detail=f"training course {'passed' if passed else 'not passed'}",
        )
    return completion


def protocol_acknowledge(*, user: User, version: ProtocolVersion, actor: Actor) -> Completion:
    """USER acknowledges VERSION (only the current one); their open tasks for it are done."""
    current = version.protocol.current_version()
    if current is None or current.pk != version.pk:
        raise ValidationError("A newer version of this protocol was published: read it first.")
    existing = Completion.objects.filter(user=user, protocol_version=version).first()
    if existing is not None:
        return existing
    now = timezone.now()
    with transaction.atomic():
        completion = Completion.objects.create(
            user=user, protocol_version=version, version=version.number, passed=True, completed_at=now
        )
        _tasks_complete(
            Task.objects.filter(user=user, protocol_version=version, state=TaskState.OPEN), now=now
        )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            obj=completion,
            detail=f"training protocol version {version.number} acknowledged",
        )
    return completion
