"""Forms of the records app: entries by kind, amendments (with a reason), documents, results, release rules."""

from __future__ import annotations

from typing import Any

from django import forms

from careline.accounts.models import User
from careline.core.dates import BoundedDateField, BoundedDateTimeField, any_date_bounds
from careline.core.permissions import Role
from careline.patients.models import Patient
from careline.records.models import (
    Allergy,
    Immunization,
    LabResult,
    Medication,
    Problem,
    ReleasePolicy,
    ResultFlag,
    ResultReleaseRule,
    ResultStatus,
    VisitSummary,
)
from careline.records.services.entries import REASON_MAX_CHARS

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
SUMMARY_MAX_CHARS = 10_000
COMMENT_MAX_CHARS = 2_000


def _date(label: str, *, required: bool = False) -> BoundedDateField:
    return BoundedDateField(label=label, required=required, widget=DATE_WIDGET, bounds=any_date_bounds)


class EntryForm(forms.ModelForm):
    """The fields of an entry; with AMENDING, also the reason for the change."""

    def __init__(self, *args: Any, patient: Patient, amending: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patient = patient
        if amending:
            self.fields["reason"] = forms.CharField(
                label="Reason for the change",
                max_length=REASON_MAX_CHARS,
                help_text="For example: wrong patient, typo, new information. The earlier version is kept.",
            )
        elif "status" in self.fields:
            # A new entry is never entered in error.
            status: Any = self.fields["status"]
            status.choices = [c for c in status.choices if c[0] != "entered_in_error"]

    def entry_values(self) -> dict[str, Any]:
        """The cleaned values of the entry's own fields (without the reason)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "reason"}


class AllergyForm(EntryForm):
    class Meta:
        model = Allergy
        fields = ["substance", "reaction", "severity", "status"]


class MedicationForm(EntryForm):
    start_date = _date("Start date")
    end_date = _date("End date")

    class Meta:
        model = Medication
        fields = ["name", "dose", "instructions", "status", "start_date", "end_date"]


class ProblemForm(EntryForm):
    onset = _date("Onset")

    class Meta:
        model = Problem
        fields = ["name", "onset", "status"]


class ImmunizationForm(EntryForm):
    date_given = _date("Date given", required=True)

    class Meta:
        model = Immunization
        fields = ["vaccine", "date_given", "lot", "status"]
        labels = {"lot": "Lot number (optional)"}


class VisitSummaryForm(EntryForm):
    visit_date = _date("Visit date", required=True)
    summary = forms.CharField(
        label="Summary for the patient",
        max_length=SUMMARY_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="The patient reads this in the portal. Care notes stay staff-only.",
    )

    class Meta:
        model = VisitSummary
        fields = ["visit_date", "appointment", "clinician", "summary", "status"]
        labels = {"appointment": "Visit (optional)"}

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, patient=patient, **kwargs)
        from careline.scheduling.models import Appointment

        appointment: Any = self.fields["appointment"]
        # This patient's visits only (a sliced queryset could not validate the choice).
        appointment.queryset = Appointment.objects.filter(patient=patient).order_by("-starts_at")
        clinician: Any = self.fields["clinician"]
        clinician.queryset = User.objects.filter(role_rows__role=Role.CLINICIAN, is_active=True).distinct()

    def clean_appointment(self) -> Any:
        appointment = self.cleaned_data.get("appointment")
        if appointment is not None and appointment.patient_id != self.patient.pk:
            raise forms.ValidationError("Choose one of this patient's visits.")
        return appointment


ENTRY_FORMS: dict[str, type[EntryForm]] = {
    "allergies": AllergyForm,
    "medications": MedicationForm,
    "problems": ProblemForm,
    "immunizations": ImmunizationForm,
    "visit-summaries": VisitSummaryForm,
}


class DocumentForm(forms.Form):
    """A PDF for the patient's record."""

    title = forms.CharField(label="Title", max_length=200, help_text="The patient sees this title.")
    file = forms.FileField(label="PDF file")


class DocumentAmendForm(forms.Form):
    """A document's title and status (its file never changes), and the reason."""

    title = forms.CharField(label="Title", max_length=200)
    status = forms.ChoiceField(label="Status", choices=[])
    reason = forms.CharField(label="Reason for the change", max_length=REASON_MAX_CHARS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from careline.records.models import DocumentStatus

        status: Any = self.fields["status"]
        status.choices = DocumentStatus.choices


class ResultForm(forms.Form):
    """A lab result; the flag is computed from a numeric range unless one is chosen."""

    test_code = forms.CharField(label="Test code", max_length=30, help_text="For example HBA1C, LDL, TSH.")
    test_name = forms.CharField(label="Test name", max_length=200)
    value = forms.CharField(label="Value", max_length=100)
    unit = forms.CharField(label="Unit", max_length=30, required=False)
    reference_low = forms.DecimalField(label="Reference low", required=False, max_digits=14, decimal_places=4)
    reference_high = forms.DecimalField(
        label="Reference high", required=False, max_digits=14, decimal_places=4
    )
    reference_text = forms.CharField(
        label="Reference range as text",
        max_length=100,
        required=False,
        help_text="For a value that is not a number.",
    )
    flag = forms.ChoiceField(
        label="Flag",
        required=False,
        choices=[("", "Computed from the range"), *ResultFlag.choices],
        help_text="Choose one to override the computed flag (needed for a value that is not a number).",
    )
    collected_at = BoundedDateTimeField(label="Collected", widget=DATETIME_WIDGET, bounds=any_date_bounds)
    resulted_at = BoundedDateTimeField(label="Resulted", widget=DATETIME_WIDGET, bounds=any_date_bounds)
    comment = forms.CharField(
        label="Comment for the patient",
        max_length=COMMENT_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, amending: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if amending:
            self.fields["status"] = forms.ChoiceField(label="Status", choices=ResultStatus.choices)
            self.fields["reason"] = forms.CharField(
                label="Reason for the change", max_length=REASON_MAX_CHARS
            )

    def clean_test_code(self) -> str:
        return str(self.cleaned_data["test_code"]).strip().upper()

    def result_values(self) -> dict[str, Any]:
        """The cleaned values of the result's own fields (without the reason)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "reason"}

    @staticmethod
    def initial_for(result: LabResult) -> dict[str, Any]:
        """The form's initial values from RESULT (a chosen flag only when it was overridden)."""
        initial = {name: getattr(result, name) for name in LabResult.TRACKED if name != "value_number"}
        initial["flag"] = result.flag if result.flag_overridden else ""
        return initial


class ReleaseRuleForm(forms.ModelForm):
    """How one test's normal results are released."""

    class Meta:
        model = ResultReleaseRule
        fields = ["test_code", "policy", "delay_hours"]
        help_texts = {
            "delay_hours": "For a delayed release: hours after the result is entered (at most 720).",
            "policy": "Results flagged low, high or critical always wait for a clinician.",
        }

    def clean_test_code(self) -> str:
        return str(self.cleaned_data["test_code"]).strip().upper()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        hours = cleaned.get("delay_hours") or 0
        if hours > 720:
            self.add_error("delay_hours", "At most 720 hours (30 days).")
        if cleaned.get("policy") == ReleasePolicy.DELAYED and not hours:
            self.add_error("delay_hours", "Give the delay in hours.")
        return cleaned


def entry_form_class(code: str) -> type[EntryForm]:
    """The form of entry kind CODE."""
    return ENTRY_FORMS[code]
