"""Outreach: birthday messages per location, recall audiences, their campaigns and each patient's recall."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class BirthdaySetting(models.Model):
    """Whether a location sends birthday messages, and its text (blank: Careline's, in the patient's language)."""

    location = models.OneToOneField(
        "locations.Location", on_delete=models.CASCADE, related_name="birthday_setting"
    )
    enabled = models.BooleanField(default=False)
    template = models.TextField(blank=True, help_text="English; blank: Careline's own greeting")
    translations = models.JSONField(default=dict, blank=True, help_text="language code -> text")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Birthday messages at {self.location_id}: {'on' if self.enabled else 'off'}"

    def template_for(self, language: str) -> str:
        """The location's text in LANGUAGE, else its English text ('' when it uses Careline's own)."""
        return str(self.translations.get(language) or self.template or "")


class BirthdayGreeting(models.Model):
    """A patient's birthday of one year, greeted or skipped (with the reason): at most one a year."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    skipped_reason = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["patient", "year"], name="birthday_once_a_year")]

    def __str__(self) -> str:
        return f"Birthday {self.year} of patient {self.patient_id}"


class RecallRule(models.TextChoices):
    NO_VISIT = "no_visit", "No visit of a type in the last N months"
    FOLLOW_UP = "follow_up", "A follow-up not booked N weeks after a visit"
    VACCINE = "vaccine", "A vaccine due by age"


class Audience(models.Model):
    """A saved rule that finds a location's patients due for something (counted again at every use)."""

    name = models.CharField(max_length=100)
    location = models.ForeignKey("locations.Location", on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=20, choices=RecallRule.choices)
    visit_type = models.ForeignKey(
        "scheduling.AppointmentType",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="No visit: the type due; follow-up: the follow-up type",
    )
    after_type = models.ForeignKey(
        "scheduling.AppointmentType",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Follow-up: the visit that needs one (blank: any completed visit)",
    )
    months = models.PositiveSmallIntegerField(
        default=12,
        help_text="No visit: within; follow-up: visits of the last N months; vaccine: every N (0: once)",
    )
    weeks = models.PositiveSmallIntegerField(default=4, help_text="Follow-up: weeks after the visit")
    vaccine = models.CharField(max_length=100, blank=True, help_text="Vaccine: the name recorded contains")
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    care_related = models.BooleanField(
        default=False, help_text="Care-related recalls need no marketing consent; the others do"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class CampaignOffer(models.TextChoices):
    LINK = "link", "A link to request a visit in the portal"
    CALLBACK = "callback", "Reply to be called back"


class CampaignState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    DONE = "done", "Sent"
    CANCELLED = "cancelled", "Cancelled"


class Campaign(models.Model):
    """A recall texted to an audience at a time; each patient's recall is a row made when it goes."""

    audience = models.ForeignKey(Audience, on_delete=models.PROTECT, related_name="campaigns")
    body = models.TextField(blank=True, help_text="English; blank: Careline's own recall text")
    translations = models.JSONField(default=dict, blank=True, help_text="language code -> text")
    offer = models.CharField(max_length=10, choices=CampaignOffer.choices, default=CampaignOffer.CALLBACK)
    send_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=CampaignState.choices, default=CampaignState.SCHEDULED)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-send_at", "-id"]
        indexes = [models.Index(fields=["state", "send_at"])]

    def __str__(self) -> str:
        return f"Recall campaign {self.pk}"

    def body_for(self, language: str) -> str:
        return str(self.translations.get(language) or self.body or "")


class Recall(models.Model):
    """One patient's recall of a campaign: its text (or why none went), a call-back asked for."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recalls")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    skipped_reason = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField()
    callback_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "patient"], name="recall_once_per_campaign")
        ]
        indexes = [models.Index(fields=["patient", "created_at"])]

    def __str__(self) -> str:
        return f"Recall {self.pk}"
