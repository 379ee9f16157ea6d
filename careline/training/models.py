"""Staff training: courses (ordered lessons and a quiz), versioned protocols, assignments, tasks, completions.

Nothing here is about a patient: it is the clinic's teaching material and each staff member's record.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from careline.core.permissions import Role


def lesson_upload_to(instance: Any, filename: str) -> str:
    """A random, unguessable name in the training folder (the uploaded name is kept only as text)."""
    return f"training/{secrets.token_urlsafe(24)}.pdf"


class LessonKind(models.TextChoices):
    TEXT = "text", "Text"
    PDF = "pdf", "PDF"
    VIDEO = "video", "Video link"


class Course(models.Model):
    """A set of ordered lessons and an optional quiz (no questions: no quiz)."""

    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    pass_mark = models.PositiveSmallIntegerField(default=80, help_text="Percent of questions right to pass")
    # Raised whenever the course's lessons or quiz change; a completion keeps the version it was taken at.
    version = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class Lesson(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=LessonKind.choices, default=LessonKind.TEXT)
    body = models.TextField(blank=True)
    file = models.FileField(upload_to=lesson_upload_to, max_length=200, blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    video_url = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["course", "position", "id"]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["course", "position", "id"]

    def __str__(self) -> str:
        return self.text


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(max_length=300)
    is_correct = models.BooleanField(default=False)

    class Meta:
        ordering = ["question", "id"]

    def __str__(self) -> str:
        return self.text


class Protocol(models.Model):
    """A document staff must acknowledge; each published version asks everyone again."""

    title = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    def current_version(self) -> ProtocolVersion | None:
        return self.versions.order_by("-number").first()


class ProtocolVersion(models.Model):
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["protocol", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "number"], name="training_protocol_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.protocol} v{self.number}"


class Assignment(models.Model):
    """Who must take a course or acknowledge a protocol, by when, and how often."""

    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    protocol = models.ForeignKey(Protocol, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # A role (careline.core.permissions.Role) or named people; either may be narrowed to one location.
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    people = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    location = models.ForeignKey(
        "locations.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    due_days = models.PositiveSmallIntegerField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    recurrence_months = models.PositiveSmallIntegerField(default=0)  # 12: annual; 0: once
    on_first_sign_in = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(course__isnull=False, protocol__isnull=True)
                | Q(course__isnull=True, protocol__isnull=False),
                name="training_assignment_one_subject",
            )
        ]

    def __str__(self) -> str:
        return f"Assignment {self.pk}"

    @property
    def subject(self) -> Course | Protocol:
        return self.course if self.course_id else self.protocol  # type: ignore[return-value]


class TaskState(models.TextChoices):
    OPEN = "open", "To do"
    DONE = "done", "Done"
    SUPERSEDED = "superseded", "Replaced by a newer version"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Task(models.Model):
    """One staff member's obligation from an assignment: one course, or one protocol version, by a date."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="tasks")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_tasks"
    )
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    protocol_version = models.ForeignKey(
        ProtocolVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    assigned_on = models.DateField()
    due_on = models.DateField()
    state = models.CharField(max_length=12, choices=TaskState.choices, default=TaskState.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["state", "due_on"])]
        constraints = [
            # One open task per assignment and person, however many sweeps and sign-ins run at once.
            models.UniqueConstraint(
                fields=["assignment", "user"], condition=Q(state="open"), name="training_task_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"Training task {self.pk}"

    @property
    def title(self) -> str:
        if self.course_id and self.course is not None:
            return self.course.title
        if self.protocol_version is not None:
            return f"{self.protocol_version.protocol.title} (version {self.protocol_version.number})"
        return ""


class Completion(models.Model):
    """A course taken (pass or fail) or a protocol version acknowledged: kept forever, for audits."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    protocol_version = models.ForeignKey(
        ProtocolVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    version = models.PositiveIntegerField()
    score = models.PositiveSmallIntegerField(null=True, blank=True)  # percent; None without a quiz
    passed = models.BooleanField()
    completed_at = models.DateTimeField()

    class Meta:
        ordering = ["-completed_at", "-id"]
        indexes = [models.Index(fields=["user", "-completed_at"])]

    def __str__(self) -> str:
        return f"Completion {self.pk}"

    @property
    def subject_title(self) -> str:
        if self.course is not None:
            return self.course.title
        return self.protocol_version.protocol.title if self.protocol_version is not None else ""


class LessonRead(models.Model):
    """A lesson a staff member has read (lessons come in order: the next opens once this one is read)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "lesson"], name="training_lesson_read_once")]

    def __str__(self) -> str:
        return f"Lesson read {self.pk}"


class Onboarding(models.Model):
    """The first sign-in of a staff member, once: its onboarding assignments were given then."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    given_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Onboarding {self.pk}"


class ReminderKind(models.TextChoices):
    BEFORE = "before", "Due soon"
    OVERDUE = "overdue", "Overdue"


class ReminderState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Reminder(models.Model):
    """An email to a staff member about a task, for one day: the unique key stops a second one that day."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    on_date = models.DateField()
    to_address = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    state = models.CharField(max_length=10, choices=ReminderState.choices, default=ReminderState.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-on_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "on_date"], name="training_reminder_once_per_day")
        ]

    def __str__(self) -> str:
        return f"Training reminder {self.pk}"
