"""Input validation for the registry pages. Forms validate; services write."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from careline.core.dates import BoundedDateField, birth_date_bounds
from careline.core.permissions import Perm, Role, has_perm
from careline.core.phones import parse_phone
from careline.locations.models import Location
from careline.patients.models import (
    Caregiver,
    Channel,
    ConsentKind,
    ConsentMethod,
    Patient,
    PatientPhone,
    PhoneKind,
    Purpose,
)

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y"]

PATIENT_FORM_FIELDS = [
    "mrn",
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "pronouns",
    "language",
    "primary_location",
    "primary_clinician",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "time_zone",
    "confidential_communications",
]


def locations_for(user: Any) -> Any:
    """The locations USER may register patients at."""
    if has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS):
        return Location.objects.all()
    return Location.objects.filter(pk__in=user.location_ids)


class PatientForm(forms.ModelForm):
    """Demographics. On registration an optional first phone number, and a blank MRN is generated."""

    date_of_birth = BoundedDateField(
        bounds=birth_date_bounds,
        input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="e.g. 1980-04-12 or 04/12/1980",
    )

    class Meta:
        model = Patient
        fields = PATIENT_FORM_FIELDS

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["primary_location"].queryset = locations_for(user)  # type: ignore[attr-defined]
        from careline.accounts.models import User

        self.fields["primary_clinician"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            is_active=True, role_rows__role=Role.CLINICIAN
        ).distinct()
        if self.instance.pk is None:
            self.fields["mrn"].required = False
            self.fields["mrn"].help_text = "Leave blank to have Careline assign one."

    def clean_date_of_birth(self) -> date:
        born: date = self.cleaned_data["date_of_birth"]
        if born > timezone.localdate():
            raise ValidationError("The date of birth cannot be in the future.")
        return born

    def clean_mrn(self) -> str:
        return (self.cleaned_data.get("mrn") or "").strip()


class PatientCreateForm(PatientForm):
    """Registration: demographics plus a first phone number."""

    phone = forms.CharField(
        required=False, max_length=40, help_text="Any format, e.g. (312) 555-0111 or +44 20 7946 0958"
    )
    phone.widget.attrs.update({"type": "tel", "autocomplete": "off"})
    seen_candidates = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_phone(self) -> str:
        raw = self.cleaned_data.get("phone") or ""
        return parse_phone(raw) if raw.strip() else ""

    def seen_candidate_ids(self) -> set[int]:
        """The possible duplicates the person was shown before confirming."""
        raw = self.cleaned_data.get("seen_candidates") or ""
        return {int(part) for part in raw.split(",") if part.strip().isdecimal()}


class PatientEditForm(PatientForm):
    """Demographics and status (deceased, inactive)."""

    class Meta(PatientForm.Meta):
        fields = [*PATIENT_FORM_FIELDS, "status"]


class PhoneAddForm(forms.Form):
    number = forms.CharField(max_length=40, help_text="Any format, e.g. (312) 555-0111 or +34 612 34 56 78")
    number.widget.attrs.update({"type": "tel", "autocomplete": "off"})
    kind = forms.ChoiceField(
        choices=[("", "Work it out from the number"), *PhoneKind.choices], required=False
    )
    label = forms.CharField(max_length=40, required=False, help_text="e.g. home, work, daughter's")
    is_primary = forms.BooleanField(required=False, label="Make this the primary number")

    def clean_number(self) -> str:
        return parse_phone(self.cleaned_data["number"])


class PhoneChoiceForm(forms.Form):
    """Pick one of the patient's numbers (remove it, or make it primary)."""

    phone = forms.ModelChoiceField(queryset=PatientPhone.objects.none())

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"].queryset = PatientPhone.objects.filter(patient=patient)  # type: ignore[attr-defined]


class ContactPreferencesForm(forms.Form):
    """One channel per purpose."""

    def __init__(self, *args: Any, current: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for purpose, label in Purpose.choices:
            self.fields[purpose] = forms.ChoiceField(
                label=label,
                choices=Channel.choices,
                initial=current.get(purpose, Channel.SMS),
                # Marketing came later: a page or client posting without it keeps the patient's choice.
                required=purpose != Purpose.MARKETING,
            )


STAFF_CONSENT_METHODS = [
    (ConsentMethod.FORM, ConsentMethod.FORM.label),
    (ConsentMethod.STAFF, ConsentMethod.STAFF.label),
    (ConsentMethod.PORTAL, ConsentMethod.PORTAL.label),
]


class ConsentForm(forms.Form):
    """Give or revoke text-message consent for one of the patient's numbers."""

    phone_number = forms.ChoiceField(label="Number")
    kind = forms.ChoiceField(label="Consent", choices=ConsentKind.choices, widget=forms.RadioSelect)
    method = forms.ChoiceField(label="How it was given", choices=STAFF_CONSENT_METHODS)
    note = forms.CharField(max_length=200, required=False, help_text="No clinical details")

    def __init__(self, *args: Any, numbers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone_number"].choices = numbers  # type: ignore[attr-defined]


class CaregiverForm(forms.ModelForm):
    phone = forms.CharField(
        required=False, max_length=40, help_text="Any format", widget=forms.TextInput(attrs={"type": "tel"})
    )

    class Meta:
        model = Caregiver
        fields = [
            "name",
            "relationship",
            "phone",
            "email",
            "is_proxy",
            "receives_appointments",
            "receives_billing",
            "receives_care",
            "receives_general",
            "is_active",
        ]
        labels = {
            "receives_appointments": "Receives appointment reminders",
            "receives_billing": "Receives billing messages",
            "receives_care": "Receives care follow-up",
            "receives_general": "Receives general news",
            "is_active": "Active",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            del self.fields["is_active"]

    def clean_phone(self) -> str:
        raw = self.cleaned_data.get("phone") or ""
        return parse_phone(raw) if raw.strip() else ""
