"""Reminder rules and the reminder rows they plan, the waitlist (questions to patients are messaging Prompts)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ReminderChannel(models.TextChoices):
    PREFERENCE = "preference", "The patient's reminder preference"
    SMS = "sms", "Text"
    EMAIL = "email", "Email"
    BOTH = "both", "Text and email"


class ReminderRule(models.Model):
    """When and how to remind: either N days before at a local time, or N minutes before the visit.

    Empty appointment types or locations mean every one. Templates render from the messaging allow-list.
    """

    name = models.CharField(max_length=100)
    appointment_types = models.ManyToManyField(
        "scheduling.AppointmentType", blank=True, related_name="reminder_rules"
    )
    locations = models.ManyToManyField("locations.Location", blank=True, related_name="reminder_rules")
    days_before = models.PositiveSmallIntegerField(null=True, blank=True)
    at_local_time = models.TimeField(
        null=True, blank=True, help_text="With days before: the local time to send"
    )
    minutes_before = models.PositiveIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=12, choices=ReminderChannel.choices, default=ReminderChannel.SMS)
    template_en = models.TextField(help_text="The text in English, sent when no translation fits")
    translations = models.JSONField(
        default=dict, blank=True, help_text="The text in each other language, by language code"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(days_before__isnull=False, at_local_time__isnull=False, minutes_before__isnull=True)
                )
                | (Q(days_before__isnull=True, at_local_time__isnull=True, minutes_before__isnull=False)),
                name="reminder_rule_one_timing",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def template_for(self, language: str | None) -> tuple[str, str]:
        """(template, language): the text in LANGUAGE when the rule has it, else the English text."""
        translated = (self.translations or {}).get(language or "", "")
        if language and language != "en" and isinstance(translated, str) and translated.strip():
            return translated, language
        return self.template_en, "en"


class ReminderState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Handed to messaging"
    WITHDRAWN = "withdrawn", "Withdrawn (visit moved or cancelled)"
    SKIPPED = "skipped", "Skipped"


class Reminder(models.Model):
    """One planned reminder with its due time. The sweep claims due rows and sends through messaging."""

    # Planning writes these by the hundred thousand: no index another one answers (scheduling migration 0008).
    # The unique plan (appointment, rule, channel, time) serves look-ups by appointment; the message index
    # below holds only the reminders that were sent (planned ones have none).
    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.CASCADE, related_name="reminders", db_index=False
    )
    rule = models.ForeignKey(
        ReminderRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="reminders"
    )
    channel = models.CharField(max_length=6, choices=[("sms", "Text"), ("email", "Email")], default="sms")
    appointment_starts_at = models.DateTimeField(help_text="The visit time this reminder was planned for")
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=ReminderState.choices, default=ReminderState.PENDING)
    skip_reason = models.CharField(max_length=200, blank=True)
    held_for_quiet_hours = models.BooleanField(default=False, help_text="Moved earlier out of quiet hours")
    message = models.ForeignKey(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "rule", "channel", "appointment_starts_at"],
                name="reminder_unique_plan",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["message"], condition=Q(message__isnull=False), name="reminder_message"),
        ]

    def __str__(self) -> str:
        return f"Reminder for appointment {self.appointment_id} due {self.due_at:%Y-%m-%d %H:%M}"


class ReminderReplan(models.Model):
    """Re-planning upcoming visits' reminders after a rule was added, changed or turned off, with progress.

    Processed in batches of visits in id order; `last_appointment_id` is the cursor, saved with each batch's
    changes, so a job whose worker died resumes where it stopped and a duplicate task finds nothing to do.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting"
        RUNNING = "running", "Re-planning"
        DONE = "done", "Done"

    class Reason(models.TextChoices):
        ADDED = "added", "Rule added"
        CHANGED = "changed", "Rule changed"
        TURNED_OFF = "turned_off", "Rule turned off"

    rule = models.ForeignKey(ReminderRule, on_delete=models.CASCADE, related_name="replans")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    total = models.PositiveIntegerField(default=0, help_text="Upcoming visits to look at (counted at start)")
    processed = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)
    retimed = models.PositiveIntegerField(default=0)
    too_late = models.PositiveIntegerField(default=0, help_text="Skipped: their time had already passed")
    last_appointment_id = models.PositiveBigIntegerField(default=0)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="The running worker's last sign of life"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Re-plan of {self.rule} ({self.get_state_display()})"

    @property
    def finished(self) -> bool:
        return self.state == self.State.DONE

    @property
    def percent(self) -> int:
        return min(100, int(100 * self.processed / self.total)) if self.total else 0

    @property
    def outcome(self) -> str:
        """'Re-planned reminders for 132 upcoming visits: 40 added, 12 withdrawn' (and re-timed, too late)."""
        visits = f"{self.processed} upcoming visit{'s' if self.processed != 1 else ''}"
        parts = [f"{self.added} added", f"{self.withdrawn} withdrawn"]
        if self.retimed:
            parts.append(f"{self.retimed} re-timed")
        if self.too_late:
            parts.append(f"{self.too_late} too late to send")
        return f"Re-planned reminders for {visits}: {', '.join(parts)}"


class WaitlistEntry(models.Model):
    """A patient who wants an earlier slot of a type, offered freed slots in the order they joined."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        BOOKED = "booked", "Booked"
        REMOVED = "removed", "Removed"

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="waitlist_entries")
    appointment_type = models.ForeignKey(
        "scheduling.AppointmentType", on_delete=models.CASCADE, related_name="+"
    )
    location = models.ForeignKey("locations.Location", null=True, blank=True, on_delete=models.CASCADE)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    earliest_date = models.DateField(null=True, blank=True)
    latest_date = models.DateField(null=True, blank=True)
    current_appointment = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The later visit the patient would give up for an earlier one",
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "waitlist entries"

    def __str__(self) -> str:
        return f"{self.patient} waiting for {self.appointment_type}"


class WaitlistOffer(models.Model):
    """A freed slot offered by text to one waitlisted patient; the first to accept gets it."""

    class State(models.TextChoices):
        OPEN = "open", "Offered"
        ACCEPTED = "accepted", "Accepted"
        TAKEN = "taken", "Taken by someone else"
        EXPIRED = "expired", "Expired"

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey("locations.Location", on_delete=models.CASCADE, related_name="+")
    appointment_type = models.ForeignKey(
        "scheduling.AppointmentType", on_delete=models.CASCADE, related_name="+"
    )
    starts_at = models.DateTimeField()
    word = models.CharField(max_length=10, default="B")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    booked_appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["clinician", "starts_at", "state"])]

    def __str__(self) -> str:
        return f"Offer of {self.starts_at:%Y-%m-%d %H:%M} to entry {self.entry_id}"
