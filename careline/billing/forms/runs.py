"""Input of the statement run page: which patients (a location, or all), the statement date and the due date."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from careline.locations.models import Location

ALL = "all"


class StatementRunForm(forms.Form):
    location = forms.ChoiceField(label="Patients of")
    statement_date = forms.DateField(label="Statement date", widget=forms.DateInput(attrs={"type": "date"}))
    due_date = forms.DateField(label="Due date", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, locations: list[Location], everywhere: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locations = {str(location.pk): location for location in locations}
        choices = [(pk, location.name) for pk, location in self.locations.items()]
        if everywhere:
            choices.insert(0, (ALL, "Every location"))
        field = self.fields["location"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
        today = timezone.localdate()
        self.fields["statement_date"].initial = today
        self.fields["due_date"].initial = today + timedelta(days=settings.CARELINE_STATEMENT_DUE_DAYS)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day: date | None = data.get("statement_date")
        due: date | None = data.get("due_date")
        today = timezone.localdate()
        if day is not None and not today - timedelta(days=31) <= day <= today + timedelta(days=31):
            self.add_error("statement_date", "Give a statement date within a month of today.")
        if day is not None and due is not None:
            if due < day:
                self.add_error("due_date", "The due date is on or after the statement date.")
            elif due > day + timedelta(days=365):
                self.add_error("due_date", "Give a due date within a year of the statement date.")
        return data

    def chosen_location(self) -> Location | None:
        """The location chosen (None: every location). Call after is_valid()."""
        return self.locations.get(self.cleaned_data["location"])
