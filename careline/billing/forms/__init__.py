"""Input of the billing pages: amounts typed as money ("25.00") become cents here; services decide the rest."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from careline.billing.models import DESK_METHODS, AdjustmentKind
from careline.billing.money import parse_money


class MoneyField(forms.CharField):
    """An amount more than zero, typed as money; cleaned to integer cents."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", "In dollars and cents, e.g. 25.00")
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value: Any) -> int:
        text = super().clean(value)
        cents = parse_money(text)
        if cents <= 0:
            raise ValidationError("Enter an amount more than zero.")
        return cents


class DeskPaymentForm(forms.Form):
    amount = MoneyField(label="Amount")
    method = forms.ChoiceField(label="Paid by", choices=[(m.value, m.label) for m in DESK_METHODS])
    reference = forms.CharField(
        label="Reference",
        required=False,
        max_length=60,
        help_text="Check number or terminal receipt (optional)",
    )


class RefundForm(forms.Form):
    amount = MoneyField(label="Amount to refund")
    reason = forms.CharField(label="Reason", max_length=200)


class AdjustmentForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=AdjustmentKind.choices)
    amount = MoneyField(label="Amount")
    reason = forms.CharField(label="Reason", max_length=200)


class SelfPayForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False, max_length=200)


def errors_text(error: ValidationError) -> str:
    """A service's refusal as one sentence for a message."""
    return " ".join(str(message) for message in error.messages)


class StatementIssueForm(forms.Form):
    due_in_days = forms.IntegerField(label="Days to pay", min_value=1, max_value=365, initial=30)


class GuarantorForm(forms.Form):
    """Who pays the patient's bills from a date (their patient record's MRN), or end the guarantor."""

    action = forms.ChoiceField(choices=[("set", "Set"), ("end", "End")], widget=forms.HiddenInput)
    guarantor_mrn = forms.CharField(
        label="Guarantor's MRN",
        required=False,
        max_length=32,
        help_text="Another patient's record (a parent for a child): their statements will list this patient's items.",
    )
    relationship = forms.CharField(label="Relationship", required=False, max_length=60)
    on = forms.DateField(label="From (or, to end: on)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "set" and not (data.get("guarantor_mrn") or "").strip():
            self.add_error("guarantor_mrn", "Give the guarantor's MRN.")
        return data


class StatementVoidForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=200)


class MailBatchForm(forms.Form):
    day = forms.DateField(label="Day", widget=forms.DateInput(attrs={"type": "date"}))


class PlanForm(forms.Form):
    instalments = forms.IntegerField(label="Monthly payments", min_value=2, max_value=60)
    first_due = forms.DateField(
        label="First payment due", widget=forms.DateInput(attrs={"type": "date"}), help_text="Within 60 days"
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class ResolutionForm(forms.Form):
    resolution = forms.CharField(label="Resolution", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class TaskNoteForm(forms.Form):
    body = forms.CharField(label="Note", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class TaskCloseForm(forms.Form):
    outcome = forms.CharField(
        label="Outcome", max_length=200, help_text="e.g. Left a voicemail; paid by phone"
    )
