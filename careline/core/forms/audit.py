"""The audit trail's filter form."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from careline.core.dates import BoundedDateField, fixed_bounds
from careline.core.models import ActorKind, AuditAction, AuditChannel
from careline.core.queries.audit import AuditFilters

# A person can read a few years of the trail; far-off dates are typos.
MIN_YEAR = 2000
MAX_YEAR = 2100
AUDIT_BOUNDS = fixed_bounds(date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31))
# Long enough for a full name; longer is not a reference to anyone.
PATIENT_REFERENCE_CHARS = 60


class DateInput(forms.DateInput):
    input_type = "date"


class AuditFilterForm(forms.Form):
    """Filters for the audit trail; every field optional."""

    date_from = BoundedDateField(label="From (date)", required=False, widget=DateInput, bounds=AUDIT_BOUNDS)
    date_to = BoundedDateField(label="To (date)", required=False, widget=DateInput, bounds=AUDIT_BOUNDS)
    patient = forms.CharField(
        label="Patient",
        max_length=PATIENT_REFERENCE_CHARS,
        required=False,
        help_text="Name, MRN or patient number",
    )
    actor = forms.ModelChoiceField(
        label="Staff member",
        queryset=get_user_model().objects.order_by("full_name"),
        required=False,
        empty_label="Anyone",
    )
    actor_kind = forms.ChoiceField(
        label="Who acted", choices=[("", "Anyone"), *ActorKind.choices], required=False
    )
    action = forms.ChoiceField(label="Action", choices=[("", "Any"), *AuditAction.choices], required=False)
    object_type = forms.CharField(
        label="Object type", max_length=60, required=False, help_text="e.g. patients.patient"
    )
    channel = forms.ChoiceField(label="Channel", choices=[("", "Any"), *AuditChannel.choices], required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> AuditFilters:
        """The validated filters (call after is_valid())."""
        data = self.cleaned_data
        actor = data.get("actor")
        return AuditFilters(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            actor_id=actor.pk if actor is not None else None,
            action=data.get("action") or "",
            patient=(data.get("patient") or "").strip(),
            object_type=(data.get("object_type") or "").strip(),
            channel=data.get("channel") or "",
            actor_kind=data.get("actor_kind") or "",
        )
