"""Forms of sharing a record with a caregiver: from the portal (the patient) and from the patient page (staff)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careline.core.phones import parse_phone
from careline.portal.models import PortalSection

SECTION_LABELS = [
    (PortalSection.APPOINTMENTS.value, _("Appointments")),
    (PortalSection.MESSAGES.value, _("Messages")),
    (PortalSection.BILLING.value, _("Billing")),
    (PortalSection.RECORDS.value, _("Records")),
    (PortalSection.RESULTS.value, _("Results")),
    (PortalSection.CARE.value, _("Care program")),
]
NEW_CAREGIVER = "new"


def end_of_day(day: date | None, zone: ZoneInfo) -> datetime | None:
    """The moment access chosen "until DAY" ends: the end of that day in the patient's zone."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


class _GrantFields(forms.Form):
    sections = forms.MultipleChoiceField(
        label=_("What they may see"), choices=SECTION_LABELS, widget=forms.CheckboxSelectMultiple
    )
    ends_on = forms.DateField(
        label=_("Until"),
        required=False,
        help_text=_("Leave empty to share until you stop it."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_ends_on(self) -> date | None:
        day: date | None = self.cleaned_data["ends_on"]
        if day is not None and day < timezone.localdate():
            raise ValidationError(_("Choose an end date in the future."))
        if day is not None and day > timezone.localdate() + timedelta(days=366 * 20):
            raise ValidationError(_("Choose an end date within 20 years."))
        return day


class PortalGrantForm(_GrantFields):
    """The patient shares their record: with a caregiver on file, or a new one they name."""

    caregiver = forms.ChoiceField(label=_("Who"))
    name = forms.CharField(label=_("Their name"), required=False, max_length=150)
    relationship = forms.CharField(
        label=_("Relationship to you"), required=False, max_length=60, help_text=_("For example: daughter")
    )
    contact = forms.CharField(
        label=_("Their email or mobile number"),
        required=False,
        max_length=254,
        help_text=_("We send them a link to set up their access."),
    )

    field_order = ["caregiver", "name", "relationship", "contact", "sections", "ends_on"]

    def __init__(self, *args: Any, caregivers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["caregiver"].choices = [  # type: ignore[attr-defined]
            *caregivers,
            (NEW_CAREGIVER, _("Someone new")),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("caregiver") != NEW_CAREGIVER:
            return data
        for name in ("name", "relationship", "contact"):
            if not (data.get(name) or "").strip():
                self.add_error(name, _("Fill this in for someone new."))
        contact = (data.get("contact") or "").strip()
        if contact and "@" in contact:
            try:
                forms.EmailField().clean(contact)
            except ValidationError:
                self.add_error("contact", _("Enter an email address or a mobile number."))
            data["email"], data["phone"] = contact.lower(), ""
        elif contact:
            try:
                data["email"], data["phone"] = "", parse_phone(contact)
            except ValidationError:
                self.add_error("contact", _("Enter an email address or a mobile number."))
        return data


class StaffGrantForm(_GrantFields):
    """Staff share a record with a caregiver on file, having recorded the patient's permission."""

    permission = forms.BooleanField(
        label="The patient gave permission for this access (recorded with your name and the time)",
        required=True,
        error_messages={"required": "Record the patient's permission first."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sections"].label = "Sections the caregiver may see"
        self.fields["ends_on"].label = "Until (optional)"
        self.fields["ends_on"].help_text = "Empty: until revoked."


class JoinForm(forms.Form):
    """A caregiver accepts a grant: a new password (or their current one, if they have an account)."""

    password = forms.CharField(
        label=_("Password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
