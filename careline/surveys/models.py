"""Post-visit surveys: each location's settings and one `SurveyRequest` per completed visit asked about."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Scale(models.TextChoices):
    CSAT = "csat", "Satisfaction, 1 to 5 (CSAT)"
    NPS = "nps", "Likelihood to recommend, 0 to 10 (NPS)"


SCALE_RANGE: dict[str, tuple[int, int]] = {Scale.CSAT: (1, 5), Scale.NPS: (0, 10)}
DEFAULT_LOW: dict[str, int] = {Scale.CSAT: 2, Scale.NPS: 6}  # at or below: a complaint for the manager
DEFAULT_HIGH: dict[str, int] = {Scale.CSAT: 5, Scale.NPS: 9}  # at or above: may be invited to review


class SurveySettings(models.Model):
    """How one location asks its patients about their visits (off until an administrator turns it on)."""

    location = models.OneToOneField(
        "locations.Location", on_delete=models.CASCADE, related_name="survey_settings"
    )
    enabled = models.BooleanField(default=False, help_text="Ask patients about completed visits")
    scale = models.CharField(max_length=4, choices=Scale.choices, default=Scale.CSAT)
    delay_minutes = models.PositiveIntegerField(
        default=120,
        validators=[MinValueValidator(0), MaxValueValidator(7 * 24 * 60)],
        help_text="Minutes after the visit is completed (quiet hours hold the text until the window opens)",
    )
    follow_up = models.BooleanField(
        default=True, help_text="Ask one optional free-text question after the score"
    )
    low_score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="At or below this, the manager is told (blank: CSAT 2, NPS 6)"
    )
    high_score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="At or above this, a review may be invited (blank: CSAT 5, NPS 9)"
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Low scores are flagged in the inbox and given to this person",
    )
    review_enabled = models.BooleanField(
        default=False, help_text="Invite high scorers to leave a public review"
    )
    review_url = models.URLField(blank=True, max_length=300)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "survey settings"

    def __str__(self) -> str:
        return f"surveys at location {self.location_id}"

    @property
    def low(self) -> int:
        return DEFAULT_LOW[self.scale] if self.low_score is None else self.low_score

    @property
    def high(self) -> int:
        return DEFAULT_HIGH[self.scale] if self.high_score is None else self.high_score

    def clean(self) -> None:
        bottom, top = SCALE_RANGE[self.scale]
        for name in ("low_score", "high_score"):
            value = getattr(self, name)
            if value is not None and not bottom <= value <= top:
                raise ValidationError({name: f"Choose a score from {bottom} to {top}."})
        if self.low >= self.high:
            raise ValidationError({"high_score": "The high score must be above the low score."})
        if self.review_enabled and not self.review_url:
            raise ValidationError({"review_url": "Give the review page's address to invite reviews."})


class SurveyState(models.TextChoices):
    PLANNED = "planned", "Planned"
    SENT = "sent", "Sent, waiting for the score"
    COMMENTING = "commenting", "Scored, waiting for a comment"
    ANSWERED = "answered", "Answered"
    EXPIRED = "expired", "No answer"
    SKIPPED = "skipped", "Not sent"


class SurveyRequest(models.Model):
    """One completed visit's survey: planned, sent, scored, commented. One per visit (its idempotency)."""

    appointment = models.OneToOneField(
        "scheduling.Appointment", on_delete=models.CASCADE, related_name="survey_request"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="survey_requests")
    location = models.ForeignKey("locations.Location", on_delete=models.CASCADE, related_name="+")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    appointment_type = models.ForeignKey(
        "scheduling.AppointmentType", on_delete=models.PROTECT, related_name="+"
    )
    scale = models.CharField(max_length=4, choices=Scale.choices)
    channel = models.CharField(max_length=5, blank=True, help_text="sms or email, once sent")
    state = models.CharField(max_length=10, choices=SurveyState.choices, default=SurveyState.PLANNED)
    skip_reason = models.CharField(max_length=60, blank=True)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    low = models.BooleanField(default=False, help_text="At or below the location's low score when answered")
    review_invited_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    conversation = models.ForeignKey(
        "messaging.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["patient", "sent_at"]),
            models.Index(fields=["location", "sent_at"]),
            models.Index(fields=["conversation", "state"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=10), name="survey_score_at_most_10"),
        ]

    def __str__(self) -> str:
        return f"survey {self.pk} ({self.state})"


# The Service report's rolled-up rows (careline/surveys/services/service_rollup.py): derived from the inbox's
# messages and closings by a sweep that re-derives only the conversations with new rows, so the report reads
# a year of figures without scanning a year of messages.


class EpisodeKind(models.TextChoices):
    RESPONSE = "response", "First response"
    RESOLUTION = "resolution", "Resolution"


class ServiceEpisode(models.Model):
    """One answered patient turn (asked: first text of the turn; answered: the staff reply) or one resolved
    cycle (asked: first text after the previous closing; answered: the closing), with its length in seconds
    within the location's opening hours as they were when `hours_key` was computed."""

    location = models.ForeignKey("locations.Location", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.CASCADE, related_name="service_episodes"
    )
    kind = models.CharField(max_length=10, choices=EpisodeKind.choices)
    asked = models.DateTimeField()
    answered = models.DateTimeField()
    business_seconds = models.FloatField()
    hours_key = models.CharField(
        max_length=64, help_text="The zone and opening hours the length was counted in"
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["location", "kind", "asked"],
                name="surveys_episode_range",
                include=["answered", "business_seconds", "hours_key"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.asked:%Y-%m-%d %H:%M} in {self.business_seconds:.0f} s"


class ServiceStaffDay(models.Model):
    """Staff replies by one staff member in one conversation on one local day of its location."""

    location = models.ForeignKey("locations.Location", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey("messaging.Conversation", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    replies = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["location", "day"], name="surveys_staffday_range")]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "author", "day"], name="surveys_staffday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.replies} replies"


class ServiceVolume(models.Model):
    """Patients' texts at one location in one local hour of one local day."""

    location = models.ForeignKey("locations.Location", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    texts = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["location", "day", "hour"], name="surveys_volume_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d}h: {self.texts}"


class ServiceRollupState(models.Model):
    """The sweep's watermarks (one row): the last message and conversation event it has rolled up."""

    message_id = models.BigIntegerField(default=0)
    event_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    hours_keys = models.JSONField(
        default=dict,
        help_text="Per location id: the zone and opening hours its episodes' lengths were counted in",
    )

    def __str__(self) -> str:
        return f"rolled up to message {self.message_id}, closing {self.event_id}"
