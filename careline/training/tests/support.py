"""Builders for training tests: a course with a quiz, a protocol, an assignment."""

from __future__ import annotations

from typing import Any

from careline.core.actor import Actor
from careline.core.permissions import Role
from careline.testing.personas import Personas
from careline.training.models import Assignment, Course, Protocol
from careline.training.services import (
    assignment_save,
    course_save,
    lesson_save,
    protocol_publish,
    protocol_save,
    question_save,
)


def author(personas: Personas) -> Actor:
    return Actor.staff(personas.admin)


def course_with_quiz(personas: Personas, *, pass_mark: int = 80, questions: int = 3) -> Course:
    """A course of one text lesson and QUESTIONS questions; question 1 has two right answers."""
    actor = author(personas)
    course = course_save(
        course=None, values={"title": "HIPAA privacy essentials", "pass_mark": pass_mark}, actor=actor
    )
    lesson_save(
        course=course, lesson=None, values={"title": "What is private", "kind": "text", "body": "Charts are **private**."},
        upload=None, original_name="", size=None, actor=actor,
    )  # fmt: skip
    question_save(
        course=course, question=None, text="Who may read a chart?",
        choices=[("Staff caring for the patient", True), ("The patient", True), ("A neighbour", False)], actor=actor,
    )  # fmt: skip
    for number in range(2, questions + 1):
        question_save(
            course=course, question=None, text=f"Question {number}",
            choices=[(f"Right {number}", True), (f"Wrong {number}", False)], actor=actor,
        )  # fmt: skip
    course.refresh_from_db()
    return course


def right_answers(course: Course) -> dict[int, list[int]]:
    return {
        question.pk: [choice.pk for choice in question.choices.all() if choice.is_correct]
        for question in course.questions.all()
    }


def wrong_answers(course: Course) -> dict[int, list[int]]:
    return {
        question.pk: [choice.pk for choice in question.choices.all() if not choice.is_correct]
        for question in course.questions.all()
    }


def protocol_published(personas: Personas, body: str = "Never quote a balance by text.") -> Protocol:
    actor = author(personas)
    protocol = protocol_save(
        protocol=None, title="Answering a billing question by text", is_active=True, actor=actor
    )
    protocol_publish(protocol=protocol, body=body, actor=actor)
    return protocol


def assign(personas: Personas, **values: Any) -> Assignment:
    people = values.pop("people", [])
    fields = {"role": Role.FRONT_DESK if not people else "", "due_days": 14} | values
    return assignment_save(assignment=None, values=fields, people=people, actor=author(personas))
