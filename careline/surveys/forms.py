"""The surveys' forms: a location's settings, the results' and service report's filters, the answer page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from careline.core.dates import BoundedDateField
from careline.locations.models import Location
from careline.surveys.models import SurveySettings

MAX_DAYS = 366


class SurveySettingsForm(forms.ModelForm):
    review_url = forms.URLField(
        label="Review page address", required=False, max_length=300, assume_scheme="https"
    )

    class Meta:
        model = SurveySettings
        fields = [
            "enabled", "scale", "delay_minutes", "follow_up", "low_score", "high_score", "manager",
            "review_enabled", "review_url",
        ]  # fmt: skip
        labels = {
            "delay_minutes": "Minutes after the visit",
            "follow_up": "Ask a follow-up question",
            "review_enabled": "Invite public reviews",
        }

    def __init__(self, *args: Any, managers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = managers  # type: ignore[attr-defined]
        self.fields["manager"].required = False

    def clean_review_url(self) -> str:
        url = str(self.cleaned_data.get("review_url") or "").strip()
        if url and not url.startswith("https://"):
            raise forms.ValidationError("Use an https:// address.")
        return url


class _RangeForm(forms.Form):
    start = BoundedDateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = BoundedDateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    @staticmethod
    def defaults(days: int) -> dict[str, str]:
        today = timezone.localdate()
        return {"start": (today - timedelta(days=days)).isoformat(), "end": today.isoformat()}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, date) and isinstance(end, date):
            if end < start:
                raise forms.ValidationError("The end date is before the start date.")
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        return data


class ResultsFilterForm(_RangeForm):
    """Survey results' filters: locations the person may see, a clinician, an appointment type, dates."""

    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), required=False, empty_label="All my locations", label="Location"
    )
    clinician = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Clinician")
    visit_type = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Appointment type"
    )

    def __init__(self, *args: Any, locations: Any, clinicians: Any, types: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]
        clinician_field = self.fields["clinician"]
        type_field = self.fields["visit_type"]
        assert isinstance(clinician_field, forms.TypedChoiceField) and isinstance(
            type_field, forms.TypedChoiceField
        )
        clinician_field.choices = [("", "All clinicians"), *((u.pk, u.full_name) for u in clinicians)]
        type_field.choices = [("", "All types"), *((t.pk, t.name) for t in types)]


class ServiceFilterForm(_RangeForm):
    """The service report's filters: one location, dates, and how old an unanswered conversation is."""

    location = forms.ModelChoiceField(queryset=Location.objects.none(), empty_label=None, label="Location")
    hours = forms.IntegerField(
        label="Unanswered for at least (hours)", min_value=1, max_value=24 * 30, initial=24, required=False
    )

    def __init__(self, *args: Any, locations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]


class AnswerForm(forms.Form):
    """The emailed survey's answer page: the score (the scale's choices) and an optional comment."""

    score = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Your score")
    comment = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self, *args: Any, low: int, high: int, score_label: str, comment_label: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["score"].choices = [(n, str(n)) for n in range(low, high + 1)]  # type: ignore[attr-defined]
        self.fields["score"].label = score_label
        self.fields["comment"].label = comment_label
