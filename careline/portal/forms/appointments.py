"""Forms of the portal's Appointments: choosing a free time to move to, and asking for a visit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from careline.locations.models import Location
from careline.scheduling.models import AppointmentType, TimeOfDay
from careline.scheduling.queries.appointments import Slot
from careline.scheduling.services.visit_requests import REASON_MAX


def slot_value(slot: Slot) -> str:
    """How a free time travels in the form: its start (ISO, UTC) and its clinician's id."""
    return f"{slot.starts_at.isoformat()}|{slot.clinician.pk}"


class RescheduleForm(forms.Form):
    """One of the free times offered on the page (anything else is refused as no longer free)."""

    slot = forms.ChoiceField(
        label=_("New time"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a new time."),
            "invalid_choice": _("That time is no longer free. Please choose another time."),
        },
    )

    def __init__(self, *args: Any, slots: list[Slot], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slots = {slot_value(slot): slot for slot in slots}
        self.fields["slot"].choices = [(value, value) for value in self.slots]  # type: ignore[attr-defined]

    def chosen(self) -> tuple[datetime, Any]:
        """The chosen slot's start and clinician."""
        slot = self.slots[self.cleaned_data["slot"]]
        return slot.starts_at, slot.clinician


class VisitRequestForm(forms.Form):
    """A visit the patient asks for: kind, place, preferred days and times, and a reason only staff read."""

    appointment_type = forms.ModelChoiceField(
        queryset=AppointmentType.objects.none(),
        label=_("Kind of visit"),
        empty_label=_("Choose…"),
        error_messages={
            "required": _("Choose the kind of visit."),
            "invalid_choice": _("Choose the kind of visit."),
        },
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(),
        label=_("Where"),
        empty_label=None,
        error_messages={"required": _("Choose where."), "invalid_choice": _("Choose where.")},
    )
    preferred_days = forms.TypedMultipleChoiceField(
        choices=[(day, WEEKDAYS[day]) for day in range(7)],
        coerce=int,
        required=False,
        label=_("Days that suit you"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty if any day suits you."),
    )
    preferred_times = forms.MultipleChoiceField(
        choices=TimeOfDay.choices,
        required=False,
        label=_("Times that suit you"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty if any time suits you."),
    )
    reason = forms.CharField(
        label=_("Reason for the visit (optional)"),
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Only the clinic's staff read this. It is never sent by text or email."),
    )

    def __init__(
        self, *args: Any, types: list[AppointmentType], locations: list[Location], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["appointment_type"].queryset = AppointmentType.objects.filter(  # type: ignore[attr-defined]
            pk__in=[kind.pk for kind in types]
        )
        self.fields["location"].queryset = Location.objects.filter(  # type: ignore[attr-defined]
            pk__in=[location.pk for location in locations]
        )
