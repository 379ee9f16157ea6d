"""The calendar's requests: the range of days its grid shows, and a visit dragged to a new time or length."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from careline.core.dates import BoundedDateField, schedule_bounds
from careline.scheduling.queries.calendar import MAX_FEED_DAYS, VIEWS
from careline.scheduling.services.appointments import VISIT_MINUTES_RANGE


class CalendarRangeForm(forms.Form):
    """Local days START to END (exclusive) of one view; at most six weeks, within the schedule's years."""

    start = BoundedDateField(bounds=schedule_bounds)
    end = BoundedDateField(bounds=schedule_bounds)
    view = forms.ChoiceField(choices=[(v, v) for v in VIEWS])
    cancelled = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end <= start:
                raise ValidationError({"end": "The end is not after the start."})
            if (end - start).days > MAX_FEED_DAYS:
                raise ValidationError({"end": f"Ask for at most {MAX_FEED_DAYS} days at once."})
        return data


class CalendarMoveForm(forms.Form):
    """Where a visit was dropped: a local date and time, maybe another clinician's column, maybe a new length."""

    date = BoundedDateField(bounds=schedule_bounds)
    time = forms.TimeField(input_formats=["%H:%M"])
    clinician = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    duration_minutes = forms.IntegerField(
        required=False, min_value=VISIT_MINUTES_RANGE[0], max_value=VISIT_MINUTES_RANGE[1]
    )


def form_problem(form: forms.Form) -> str:
    """FORM's errors as one sentence for the calendar to show: 'start: Enter a valid date.'"""
    parts = []
    for name, errors in form.errors.items():
        label = "" if name == "__all__" else f"{name}: "
        parts.append(label + " ".join(str(e) for e in errors))
    return " ".join(parts)
