"""Referrals: the directory of outside providers, referrals of patients to them and each referral's history."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ProviderKind(models.TextChoices):
    MENTAL_HEALTH = "mental_health", "Mental health"
    PHYSIOTHERAPY = "physiotherapy", "Physiotherapy"
    SPECIALIST = "specialist", "Specialist"
    COMMUNITY = "community", "Community services"


class OutsideProvider(models.Model):
    """A provider outside the clinic that patients are referred to (one directory for every location)."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ProviderKind.choices)
    specialty = models.CharField(max_length=200, blank=True, help_text="e.g. cardiology, counselling")
    services = models.TextField(blank=True, help_text="What they offer, shown to staff")
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +15555550123")
    fax = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=300, blank=True)
    website = models.URLField(blank=True)
    languages = models.JSONField(default=list, blank=True, help_text="Language codes spoken, e.g. en, es")
    insurance_accepted = models.TextField(blank=True, help_text="Plans accepted, one per line")
    takes_texts = models.BooleanField(default=False, help_text="Patients may text them to book")
    takes_fax_referrals = models.BooleanField(default=False)
    takes_email_referrals = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["kind", "active"], name="referral_provider_kind")]

    def __str__(self) -> str:
        return self.name

    @property
    def insurance_list(self) -> list[str]:
        return [line.strip() for line in self.insurance_accepted.splitlines() if line.strip()]


class ReferralState(models.TextChoices):
    SENT = "sent", "Sent"
    ACKNOWLEDGED = "acknowledged", "Acknowledged by the provider"
    SCHEDULED = "scheduled", "Scheduled"
    SEEN = "seen", "Seen"
    CLOSED = "closed", "Closed"
    DECLINED = "declined", "Declined"


# Where a referral may go from each state (staff may close or decline an open one at any point).
TRANSITIONS: dict[str, frozenset[str]] = {
    ReferralState.SENT: frozenset({"acknowledged", "scheduled", "seen", "closed", "declined"}),
    ReferralState.ACKNOWLEDGED: frozenset({"scheduled", "seen", "closed", "declined"}),
    ReferralState.SCHEDULED: frozenset({"seen", "closed", "declined"}),
    ReferralState.SEEN: frozenset({"closed"}),
    ReferralState.CLOSED: frozenset(),
    ReferralState.DECLINED: frozenset(),
}
OPEN_STATES = frozenset({ReferralState.SENT, ReferralState.ACKNOWLEDGED, ReferralState.SCHEDULED})
# A check-in asks "were you able to book?": only while nothing has been booked.
CHECKIN_STATES = frozenset({ReferralState.SENT, ReferralState.ACKNOWLEDGED})


class Referral(models.Model):
    """A patient referred to an outside provider, with consent recorded; the reason is staff-only."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="referrals")
    provider = models.ForeignKey(OutsideProvider, on_delete=models.PROTECT, related_name="referrals")
    location = models.ForeignKey("locations.Location", on_delete=models.PROTECT, related_name="+")
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(help_text="Staff-only: never texted, never in the portal")
    consent_given_at = models.DateTimeField(help_text="When the patient agreed to the referral")
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=20, choices=ReferralState.choices, default=ReferralState.SENT)
    state_changed_at = models.DateTimeField()
    created_at = models.DateTimeField()
    next_checkin_at = models.DateTimeField(null=True, blank=True)
    checkins_sent = models.PositiveSmallIntegerField(default=0)
    needs_help = models.BooleanField(default=False, help_text="The patient asked for help booking")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_checkin_at"], name="referral_checkin_due"),
            models.Index(fields=["location", "state", "state_changed_at"], name="referral_worklist"),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk} to {self.provider_id}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def next_states(self) -> list[tuple[str, str]]:
        allowed = TRANSITIONS.get(self.state, frozenset())
        return [(value, label) for value, label in ReferralState.choices if value in allowed]


class ReferralEvent(models.Model):
    """One step of a referral's history: the state it moved to, when, and who (a person, the patient, Careline)."""

    class Source(models.TextChoices):
        STAFF = "staff", "Staff"
        PATIENT_TEXT = "patient_text", "Patient, by text"
        SYSTEM = "system", "Careline"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=20, choices=ReferralState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=ReferralState.choices, blank=True)
    at = models.DateTimeField()
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.STAFF)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=300, blank=True, help_text="What happened, no clinical detail")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state} -> {self.to_state}"
