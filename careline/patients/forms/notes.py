"""Forms for care notes, amendments, pinned alerts and the handoff filter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms

from careline.accounts.models import User
from careline.core.dates import parse_local_datetime, schedule_bounds
from careline.locations.models import Location
from careline.patients.models import AlertKind, NoteKind
from careline.patients.queries import note_kinds_visible_to
from careline.patients.queries.notes import handoff_clinicians, handoff_locations
from careline.patients.services.notes import NOTE_MAX_CHARS


class NoteForm(forms.Form):
    """A new note; the kinds offered are those the writer may read (no clinical notes for billing)."""

    kind = forms.ChoiceField(label="Kind of note")
    text = forms.CharField(
        label="Note",
        max_length=NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="No more than the next person needs. Notes are never edited; changes are kept as amendments.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds = note_kinds_visible_to(user)
        kind_field: Any = self.fields["kind"]
        kind_field.choices = [(value, label) for value, label in NoteKind.choices if value in kinds]
        self.fields["kind"].initial = NoteKind.HANDOFF


class NoteAmendForm(forms.Form):
    """A new version of a note's text and the reason for it."""

    text = forms.CharField(
        label="Corrected note", max_length=NOTE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 6})
    )
    reason = forms.CharField(
        label="Reason for the change",
        max_length=200,
        help_text="For example: wrong patient, typo, new information.",
    )


class AlertForm(forms.Form):
    """A pinned alert."""

    kind = forms.ChoiceField(label="Kind of alert", choices=AlertKind.choices)
    text = forms.CharField(
        label="Alert", max_length=200, help_text="Shown at the top of every page about the patient."
    )


class HandoffForm(forms.Form):
    """Which notes to show on the handoff page: a location or a clinician's patients, since when."""

    location: forms.ModelChoiceField[Location] = forms.ModelChoiceField(
        queryset=Location.objects.none(), required=False, empty_label="—"
    )
    clinician: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="—",
        label="Clinician's patients",
    )
    since = forms.CharField(
        required=False,
        label="Notes since",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Local time of the location. Blank: the start of the previous shift.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        location_field: Any = self.fields["location"]
        location_field.queryset = handoff_locations(user)
        clinician_field: Any = self.fields["clinician"]
        clinician_field.queryset = handoff_clinicians(user)

    def clean_since(self) -> datetime | None:
        raw = (self.cleaned_data.get("since") or "").strip()
        if not raw:
            return None
        try:
            return parse_local_datetime(raw, schedule_bounds)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
