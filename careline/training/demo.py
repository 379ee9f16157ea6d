"""The demo clinic's staff training (called by careline/demo when it loads the clinic).

Two courses ("HIPAA privacy essentials" with a quiz, yearly for everyone; "Texting patients well" for the
front desk) and a protocol with two versions, with partial completion: some staff done, some overdue, one
failed attempt, and re-acknowledgements pending after the protocol's second version.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import QuerySet

from careline.accounts.models import User
from careline.core.actor import Actor
from careline.training.models import Course, Task, TaskState
from careline.training.services import (
    assignment_save,
    course_next_lesson,
    course_save,
    lesson_mark_read,
    lesson_save,
    protocol_acknowledge,
    protocol_publish,
    protocol_save,
    question_save,
    quiz_submit,
)

HIPAA_LESSONS = (
    ("What counts as protected health information",
     "# Protected health information\n\nAnything that links a person to their health or care: a name with an "
     "appointment, a phone number with a result, a photo of a chart.\n\n- Share only what the task needs.\n"
     "- Never discuss patients where others can hear."),
    ("Texts, email and the phone",
     "Texts from Careline carry **no clinical detail**: results and bills are links that need sign-in.\n\n"
     "Before giving anything by phone, check identity with two details (name and date of birth)."),
)  # fmt: skip
HIPAA_QUIZ = (
    ("Which of these are protected health information?",
     [("A patient's name with their appointment time", True), ("A lab result with a phone number", True),
      ("The clinic's opening hours", False)]),
    ("A caller asks for their result. What do you check first?",
     [("Two identifiers: name and date of birth", True), ("Nothing, if they sound sure", False)]),
    ("May a reminder text name the reason for the visit?",
     [("No: texts carry no clinical detail", True), ("Yes, if the patient agreed to texts", False)]),
)  # fmt: skip
TEXTING_LESSONS = (
    ("Tone and length", "Short, warm and plain: one idea a text.\n\n- Greet by first name.\n- Sign with the clinic's name."),
    ("When not to text", "Anything urgent, clinical or about money owed goes by phone or the portal, **never** by text."),
)  # fmt: skip
PROTOCOL_V1 = (
    "# Answering a billing question by text\n\nNever quote a balance or a charge in a text. Reply that the "
    "statement is in the portal and offer a call."
)
PROTOCOL_V2 = PROTOCOL_V1 + (
    "\n\n# New in version 2\n\nSend the portal's pay link with the reply, and log the question on the "
    "billing task list."
)


def _backdate(tasks: QuerySet[Task], *, today: date, assigned_days_ago: int, due_days_ago: int) -> None:
    tasks.filter(state=TaskState.OPEN).update(
        assigned_on=today - timedelta(days=assigned_days_ago), due_on=today - timedelta(days=due_days_ago)
    )


def _take(user: User, course: Course, *, right: bool) -> None:
    while (lesson := course_next_lesson(user=user, course=course)) is not None:
        lesson_mark_read(user=user, lesson=lesson)
    answers = {
        question.pk: [choice.pk for choice in question.choices.all() if choice.is_correct == right]
        for question in course.questions.all()
    }
    quiz_submit(user=user, course=course, answers=answers, actor=Actor.staff(user))


def training_seed_demo(*, users: dict[str, Any], today: date) -> dict[str, int]:
    """The demo courses, protocol and assignments, with some staff done and some overdue (idempotent)."""
    if Course.objects.filter(title="HIPAA privacy essentials").exists():
        return {"training_courses": 0}
    admin = users["admin"]
    actor = Actor.staff(admin)
    everyone = list(users.values())
    front = [users["front_downtown"], users["front_lakeside"]]

    hipaa = course_save(
        course=None, actor=actor,
        values={"title": "HIPAA privacy essentials", "summary": "Yearly privacy refresher for every staff member.", "pass_mark": 80},
    )  # fmt: skip
    for title, body in HIPAA_LESSONS:
        lesson_save(course=hipaa, lesson=None, values={"title": title, "kind": "text", "body": body}, upload=None,
                    original_name="", size=None, actor=actor)  # fmt: skip
    lesson_save(
        course=hipaa, lesson=None, actor=actor, upload=None, original_name="", size=None,
        values={"title": "Video: a privacy walk-through", "kind": "video", "video_url": "https://www.example.org/videos/privacy"},
    )  # fmt: skip
    for text, choices in HIPAA_QUIZ:
        question_save(course=hipaa, question=None, text=text, choices=choices, actor=actor)
    texting = course_save(
        course=None, actor=actor,
        values={"title": "Texting patients well", "summary": "How Careline texts should sound.", "pass_mark": 0},
    )  # fmt: skip
    for title, body in TEXTING_LESSONS:
        lesson_save(course=texting, lesson=None, values={"title": title, "kind": "text", "body": body}, upload=None,
                    original_name="", size=None, actor=actor)  # fmt: skip
    hipaa.refresh_from_db()
    texting.refresh_from_db()

    # Everyone, yearly; given six weeks ago and due two weeks ago: whoever has not passed is overdue.
    assignment_save(
        assignment=None, people=everyone, actor=actor,
        values={"course": hipaa, "due_days": 28, "recurrence_months": 12},
    )  # fmt: skip
    _backdate(Task.objects.filter(course=hipaa), today=today, assigned_days_ago=42, due_days_ago=14)
    for key in ("admin", "nurse", "billing"):
        _take(users[key], hipaa, right=True)
    _take(users["front_lakeside"], hipaa, right=False)  # a failed attempt: a retake is due (overdue)

    assignment_save(
        assignment=None, people=front, actor=actor, values={"course": texting, "due_days": 14}
    )  # fmt: skip
    _backdate(Task.objects.filter(course=texting), today=today, assigned_days_ago=9, due_days_ago=-5)
    _take(users["front_downtown"], texting, right=True)

    protocol = protocol_save(
        protocol=None, title="Answering a billing question by text", is_active=True, actor=actor
    )
    version_1 = protocol_publish(
        protocol=protocol, body=PROTOCOL_V1, actor=actor, today=today - timedelta(days=60)
    )
    assignment_save(
        assignment=None, people=[*front, users["billing"]], actor=actor, values={"protocol": protocol, "due_days": 7}
    )  # fmt: skip
    for key in ("front_downtown", "front_lakeside", "billing"):
        protocol_acknowledge(user=users[key], version=version_1, actor=Actor.staff(users[key]))
    protocol_publish(protocol=protocol, body=PROTOCOL_V2, actor=actor)
    # Only Dana has read version 2: Luis and Morgan are asked again.
    version_2 = protocol.current_version()
    assert version_2 is not None
    protocol_acknowledge(
        user=users["front_downtown"], version=version_2, actor=Actor.staff(users["front_downtown"])
    )
    return {
        "training_courses": 2,
        "training_protocol_versions": 2,
        "training_tasks_open": Task.objects.filter(state=TaskState.OPEN).count(),
    }
