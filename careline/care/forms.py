"""Input of the care pages: enrolment (single and bulk), a staff reading, alert actions, programs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.http import urlencode

from careline.care.measures import Measure
from careline.care.models import (
    AlertOutcome,
    CallOutcome,
    CareProgram,
    ProgramChannel,
    ProgramMeasure,
    Severity,
)
from careline.care.queries import BadWorklistCursor, WorklistCursor, WorklistFilters


def _decimal(label: str | None = None) -> forms.DecimalField:
    """An optional threshold or value: up to 999999.9."""
    return forms.DecimalField(max_digits=7, decimal_places=1, required=False, label=label)


class EnrolForm(forms.Form):
    program = forms.ModelChoiceField(queryset=CareProgram.objects.filter(is_active=True))
    channel = forms.ChoiceField(choices=ProgramChannel.choices, initial=ProgramChannel.TEXT)
    checkin_time = forms.TimeField(
        required=False, label="Check-in time (patient's local time)", help_text="Blank: the program's time"
    )
    follow_up_type: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Follow-up visit",
        help_text="The front desk gets a visit request to book it",
        empty_label="— no follow-up visit —",
    )
    override_measure = forms.ChoiceField(
        required=False,
        label="Own thresholds for",
        choices=[("", "— the program's thresholds —"), *Measure.choices],
    )
    warning_low = _decimal()
    warning_high = _decimal()
    critical_low = _decimal()
    critical_high = _decimal()
    second_warning_high = _decimal("Diastolic warning high")
    second_critical_high = _decimal("Diastolic critical high")

    def __init__(self, *args: Any, location: Any = None, **kwargs: Any) -> None:
        from careline.scheduling.models import AppointmentType

        super().__init__(*args, **kwargs)
        types = AppointmentType.objects.filter(is_active=True)
        if location is not None:
            types = types.filter(locations=location)
        self.fields["follow_up_type"].queryset = types.order_by("name")  # type: ignore[attr-defined]

    def overrides(self) -> dict[str, dict[str, Any]]:
        measure = self.cleaned_data.get("override_measure")
        if not measure:
            return {}
        names = (
            "warning_low",
            "warning_high",
            "critical_low",
            "critical_high",
            "second_warning_high",
            "second_critical_high",
        )
        return {measure: {name: self.cleaned_data.get(name) for name in names}}


class BulkEnrolForm(forms.Form):
    program = forms.ModelChoiceField(queryset=CareProgram.objects.filter(is_active=True))
    channel = forms.ChoiceField(choices=ProgramChannel.choices, initial=ProgramChannel.TEXT)
    mrns = forms.CharField(
        label="Patients' MRNs",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One MRN per line (up to 500)",
    )

    def clean_mrns(self) -> list[str]:
        mrns = [
            line.strip() for line in self.cleaned_data["mrns"].replace(",", "\n").splitlines() if line.strip()
        ]
        if not mrns:
            raise forms.ValidationError("Enter at least one MRN.")
        if len(mrns) > 500:
            raise forms.ValidationError("Enrol at most 500 patients at once.")
        return list(dict.fromkeys(mrns))


class StaffReadingForm(forms.Form):
    measure = forms.ChoiceField(choices=[c for c in Measure.choices if c[0] != Measure.SYMPTOM])
    value = forms.DecimalField(
        max_digits=7,
        decimal_places=1,
        label="Value",
        help_text="Systolic for blood pressure; mg/dL, kg, %, °C",
    )
    value2 = _decimal("Diastolic (blood pressure only)")
    unit = forms.ChoiceField(
        choices=[
            ("", "As listed"),
            ("lb", "Weight in lb"),
            ("f", "Temperature in °F"),
            ("mmol", "Glucose in mmol/L"),
        ],
        required=False,
    )
    taken_at = forms.DateTimeField(label="Taken at (patient's local time)")

    def canonical_value(self) -> Decimal:
        from careline.care.measures import KG_PER_LB, MG_DL_PER_MMOL_L

        value: Decimal = self.cleaned_data["value"]
        unit = self.cleaned_data.get("unit")
        if unit == "lb":
            return (value * KG_PER_LB).quantize(Decimal("0.1"))
        if unit == "f":
            return ((value - 32) * 5 / 9).quantize(Decimal("0.1"))
        if unit == "mmol":
            return (value * MG_DL_PER_MMOL_L).quantize(Decimal("1"))
        return value


BAD_WORKLIST_FILTER = "That filter or page link is not valid; the list shows every open alert from the top."


class WorklistFilterForm(forms.Form):
    """The worklist's filters and its page (keyset): an invalid value falls back to its default."""

    severity = forms.ChoiceField(
        required=False,
        choices=[("", "Any severity"), (Severity.CRITICAL, "Critical"), (Severity.WARNING, "Warning")],
    )
    location = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=[])
    unacknowledged = forms.BooleanField(required=False, label="Only unacknowledged")
    after = forms.CharField(required=False, max_length=60, widget=forms.HiddenInput)

    def __init__(self, *args: Any, locations: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        location_field: Any = self.fields["location"]
        location_field.choices = [("", "All my locations")] + [(loc.pk, loc.name) for loc in locations]

    def clean_after(self) -> WorklistCursor | None:
        raw = self.cleaned_data.get("after") or ""
        if not raw:
            return None
        try:
            return WorklistCursor.decode(raw)
        except BadWorklistCursor:
            raise forms.ValidationError(BAD_WORKLIST_FILTER) from None

    def filters(self) -> WorklistFilters:
        """The filters that were valid (an invalid one falls back to its default)."""
        self.is_valid()
        data = self.cleaned_data
        return WorklistFilters(
            severity=data.get("severity") or "",
            location_id=data.get("location"),
            unacknowledged=bool(data.get("unacknowledged")),
        )

    def query(self, **changes: Any) -> str:
        """The valid filters (and CHANGES) as a query string for the worklist's links."""
        self.is_valid()
        data = {
            "severity": self.cleaned_data.get("severity") or "",
            "location": self.cleaned_data.get("location") or "",
            "unacknowledged": "on" if self.cleaned_data.get("unacknowledged") else "",
            "after": self.data.get("after", "") if "after" not in self.errors else "",
        }
        data.update(changes)
        return urlencode({key: value for key, value in data.items() if value})


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, label="Note")


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(choices=AlertOutcome.choices)


class CallForm(forms.Form):
    """The call task's one click: how the call went, and which page to go back to."""

    outcome = forms.ChoiceField(choices=CallOutcome.choices)
    back = forms.ChoiceField(choices=[("alert", "alert"), ("worklist", "worklist")], required=False)


class ProgramForm(forms.ModelForm):
    class Meta:
        model = CareProgram
        fields = [
            "name",
            "checkin_time",
            "every_days",
            "duration_days",
            "instructions_en",
            "instructions_es",
            "instructions_link",
            "follow_up_days",
            "reminder_after_hours",
            "missed_days_for_task",
            "escalate_after_minutes",
            "weight_gain_kg",
            "weight_gain_days",
            "is_active",
        ]

    def clean_instructions_link(self) -> str:
        link: str = self.cleaned_data.get("instructions_link") or ""
        if link and not link.startswith("/portal/"):
            raise forms.ValidationError("Link to a page of the patient portal (it starts with /portal/).")
        return link


class ProgramMeasureForm(forms.ModelForm):
    class Meta:
        model = ProgramMeasure
        fields = [
            "measure",
            "warning_low",
            "warning_high",
            "critical_low",
            "critical_high",
            "second_warning_high",
            "second_critical_high",
            "yes_severity",
            "question_en",
            "question_es",
        ]
        widgets = {"yes_severity": forms.Select(choices=[("", "—"), *Severity.choices])}


ProgramMeasureFormSet = forms.inlineformset_factory(
    CareProgram,
    ProgramMeasure,
    form=ProgramMeasureForm,
    extra=1,
    can_delete=True,
    max_num=8,
    validate_max=True,
)
