"""Patients, their phones, contact preferences, consent ledger and caregivers."""

from __future__ import annotations

import zoneinfo
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models

from careline.core.languages import language_choices
from careline.core.text import search_key
from careline.locations.models import validate_time_zone


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Language(models.TextChoices):
    """Names for the shipped languages; a patient's choices are settings.LANGUAGES (a test keeps them equal)."""

    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"


class PatientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    DECEASED = "deceased", "Deceased"


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", "Mobile"
    LANDLINE = "landline", "Landline"
    UNKNOWN = "unknown", "Unknown"


class Purpose(models.TextChoices):
    APPOINTMENTS = "appointments", "Appointment reminders"
    BILLING = "billing", "Billing"
    CARE = "care", "Care follow-up"
    GENERAL = "general", "General"
    MARKETING = "marketing", "Marketing"


class Channel(models.TextChoices):
    SMS = "sms", "Text message"
    EMAIL = "email", "Email"
    PORTAL = "portal", "Patient portal"
    PHONE = "phone", "Phone call"
    MAIL = "mail", "Mail"


class Patient(models.Model):
    """A person in the clinic's care. Name keys are kept folded for fast, accent-free prefix search."""

    mrn = models.CharField("MRN", max_length=32, unique=True)
    legal_first_name = models.CharField(max_length=100)
    legal_last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(db_index=True)
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    pronouns = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=5, choices=language_choices, default=Language.ENGLISH)
    time_zone = models.CharField(
        max_length=64, blank=True, validators=[validate_time_zone], help_text="Blank: the primary location's"
    )
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state or region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    email = models.EmailField(blank=True)
    primary_location = models.ForeignKey(
        "locations.Location", on_delete=models.PROTECT, related_name="patients"
    )
    primary_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="primary_patients",
    )
    status = models.CharField(max_length=10, choices=PatientStatus.choices, default=PatientStatus.ACTIVE)
    confidential_communications = models.BooleanField(
        default=False, help_text="Never text or email the patient's main contacts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_name_key = models.CharField(max_length=100, db_index=True, editable=False)
    first_name_key = models.CharField(max_length=100, db_index=True, editable=False)
    preferred_name_key = models.CharField(max_length=100, db_index=True, editable=False, blank=True)

    class Meta:
        ordering = ["legal_last_name", "legal_first_name", "id"]
        indexes = [models.Index(fields=["primary_location", "last_name_key"])]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_search_keys()
        super().save(*args, **kwargs)

    def refresh_search_keys(self) -> None:
        self.last_name_key = search_key(self.legal_last_name)[:100]
        self.first_name_key = search_key(self.legal_first_name)[:100]
        self.preferred_name_key = search_key(self.preferred_name)[:100]

    @property
    def display_name(self) -> str:
        """'Preferred Last', falling back to the legal first name."""
        return f"{self.preferred_name or self.legal_first_name} {self.legal_last_name}"

    @property
    def legal_name(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}"

    @property
    def first_name(self) -> str:
        """The name to greet the patient by."""
        return self.preferred_name or self.legal_first_name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone or self.primary_location.time_zone)

    @property
    def is_deceased(self) -> bool:
        return self.status == PatientStatus.DECEASED

    @property
    def may_be_contacted(self) -> bool:
        """A deceased patient is never contacted."""
        return self.status != PatientStatus.DECEASED

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class PatientPhone(models.Model):
    """A number of a patient's, in E.164. The same number may belong to several patients (a family phone)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=20, db_index=True, help_text="E.164")
    kind = models.CharField(max_length=10, choices=PhoneKind.choices, default=PhoneKind.UNKNOWN)
    is_primary = models.BooleanField(default=False)
    label = models.CharField(max_length=40, blank=True, help_text="e.g. home, work, daughter's")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [models.UniqueConstraint(fields=["patient", "number"], name="patient_phone_unique")]

    def __str__(self) -> str:
        return self.number


class ContactPreference(models.Model):
    """How a patient wants to hear from the clinic about one purpose, and who recorded it when."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="contact_preferences")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.SMS)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["purpose"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "purpose"], name="contact_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {self.get_channel_display()}"


class ConsentKind(models.TextChoices):
    GIVEN = "given", "Consent given"
    REVOKED = "revoked", "Opted out"
    # Billing and marketing texts need consent for that purpose on top of the above (default: not given).
    BILLING_GIVEN = "billing_given", "Billing texts: consent given"
    BILLING_REVOKED = "billing_revoked", "Billing texts: consent withdrawn"
    MARKETING_GIVEN = "marketing_given", "Marketing texts: consent given"
    MARKETING_REVOKED = "marketing_revoked", "Marketing texts: consent withdrawn"


# The ledger entries that say whether texts of a purpose may be sent: (given, withdrawn).
PURPOSE_CONSENT_KINDS: dict[str, tuple[str, str]] = {
    Purpose.BILLING: (ConsentKind.BILLING_GIVEN, ConsentKind.BILLING_REVOKED),
    Purpose.MARKETING: (ConsentKind.MARKETING_GIVEN, ConsentKind.MARKETING_REVOKED),
}
# The entries of the general text-message consent (STOP/START): the latest of these is the number's state.
GENERAL_CONSENT_KINDS = (ConsentKind.GIVEN, ConsentKind.REVOKED)


class ConsentMethod(models.TextChoices):
    FORM = "form", "Signed form"
    KEYWORD = "keyword", "Text keyword"
    STAFF = "staff", "Recorded by staff"
    PORTAL = "portal", "Patient portal"
    PROVIDER = "provider", "SMS provider report"
    IMPORT = "import", "Imported"


class ConsentEvent(models.Model):
    """One entry of the text-message consent ledger for a phone number. Append-only; the latest entry wins."""

    phone_number = models.CharField(max_length=20, help_text="E.164")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    method = models.CharField(max_length=10, choices=ConsentMethod.choices)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="consent_events"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    occurred_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["phone_number", "-occurred_at", "-id"])]

    def __str__(self) -> str:
        return f"{self.phone_number} {self.kind} ({self.method})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("consent ledger entries are never changed; record a new entry")
        super().save(*args, **kwargs)


class Caregiver(models.Model):
    """A related person or proxy, and what the patient allows them to receive."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="caregivers")
    name = models.CharField(max_length=150)
    relationship = models.CharField(max_length=60, help_text="e.g. daughter, spouse, legal guardian")
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    email = models.EmailField(blank=True)
    is_proxy = models.BooleanField(default=False, help_text="Legally authorised to act for the patient")
    receives_appointments = models.BooleanField(default=False)
    receives_billing = models.BooleanField(default=False)
    receives_care = models.BooleanField(default=False)
    receives_general = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.relationship})"

    def receives(self, purpose: str) -> bool:
        return bool(getattr(self, f"receives_{purpose}", False))


class PatientImport(models.Model):
    """A CSV import: validated in full first, then applied in one transaction, with progress for the page."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        VALIDATING = "validating", "Checking rows"
        INVALID = "invalid", "Errors found, nothing imported"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    file = models.FileField(upload_to="imports/")
    original_name = models.CharField(max_length=200)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{row, column, message}]")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0

    @property
    def finished(self) -> bool:
        return self.state in {self.State.INVALID, self.State.DONE, self.State.FAILED}
