"""Scheduling forms: booking, moving, series, free-slot search, waitlist, and the admin of types, hours, time off.

Dates and times are typed in the location's zone; `cleaned_data["starts_at"]` is the UTC moment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from careline.accounts.models import User
from careline.core.dates import BoundedDateField, schedule_bounds
from careline.core.languages import language_name, translation_languages, translations_kept
from careline.core.permissions import Role
from careline.core.text import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from careline.locations.models import Location
from careline.scheduling.models import AppointmentType, TimeOff, WaitlistEntry, WorkingHours
from careline.scheduling.queries.appointments import MAX_SLOT_RANGE_DAYS, local_to_utc
from careline.scheduling.services.appointments import MAX_SERIES_COUNT

DATE = forms.DateInput(attrs={"type": "date"})
TIME = forms.TimeInput(attrs={"type": "time", "step": 900}, format="%H:%M")


def clinician_choices() -> QuerySet[User]:
    """Active staff with the clinician role."""
    return (
        User.objects.filter(is_active=True, role_rows__role=Role.CLINICIAN).distinct().order_by("full_name")
    )


class _Visit(forms.Form):
    """Type, clinician, location and a local date and time, converted to UTC with the location's zone."""

    appointment_type = forms.ModelChoiceField(
        queryset=AppointmentType.objects.filter(is_active=True), label="Type"
    )
    clinician = forms.ModelChoiceField(queryset=User.objects.none())
    location = forms.ModelChoiceField(queryset=Location.objects.none())
    date = BoundedDateField(widget=DATE, bounds=schedule_bounds)
    time = forms.TimeField(widget=TIME, help_text="In the location's time zone")

    def __init__(self, *args: Any, locations: QuerySet[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]
        self.fields["clinician"].queryset = clinician_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        location, day, clock = data.get("location"), data.get("date"), data.get("time")
        if location is not None and day is not None and clock is not None:
            try:
                data["starts_at"] = local_to_utc(location.zone, day, clock)
            except ValueError as exc:
                raise ValidationError({"time": str(exc)}) from None
        return data


class BookingForm(_Visit):
    """Book one visit for a patient chosen by search (the patient id travels in the form)."""

    patient = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    allow_outside_hours = forms.BooleanField(
        required=False, label="Book outside the clinician's working hours"
    )


class MoveForm(_Visit):
    """A new date and time (and optionally clinician or location) for a visit."""

    allow_outside_hours = forms.BooleanField(
        required=False, label="Book outside the clinician's working hours"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["appointment_type"]


class CancelForm(forms.Form):
    by_patient = forms.TypedChoiceField(
        choices=[("0", "The clinic cancelled"), ("1", "The patient cancelled")],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        label="Who cancelled",
    )
    reason = forms.CharField(required=False, max_length=200, help_text="No clinical detail")


class SeriesForm(_Visit):
    """A weekly series: first date and time, how many visits, every how many weeks."""

    patient = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    count = forms.IntegerField(min_value=2, max_value=MAX_SERIES_COUNT, initial=6, label="Number of visits")
    interval_weeks = forms.IntegerField(min_value=1, max_value=12, initial=1, label="Every how many weeks")
    book_free_dates_only = forms.BooleanField(
        required=False, label="If some dates are taken, book the free dates anyway"
    )


class SlotSearchForm(forms.Form):
    """Free slots of a type between two dates, optionally for one clinician or location."""

    appointment_type = forms.ModelChoiceField(
        queryset=AppointmentType.objects.filter(is_active=True), label="Type"
    )
    clinician = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Any clinician"
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), required=False, empty_label="Any location"
    )
    date_from = BoundedDateField(widget=DATE, label="From", bounds=schedule_bounds)
    date_to = BoundedDateField(widget=DATE, label="To", bounds=schedule_bounds)

    def __init__(self, *args: Any, locations: QuerySet[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]
        self.fields["clinician"].queryset = clinician_choices()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                raise ValidationError({"date_to": "The end date is before the start date."})
            if (end - start).days > MAX_SLOT_RANGE_DAYS:
                raise ValidationError({"date_to": f"Search at most {MAX_SLOT_RANGE_DAYS} days at once."})
            # Whole days in the widest zones either side; free_slots works in each location's zone.
            data["start"] = datetime.combine(start, datetime.min.time(), tzinfo=UTC) - timedelta(hours=14)
            data["end"] = datetime.combine(
                end + timedelta(days=1), datetime.min.time(), tzinfo=UTC
            ) + timedelta(hours=12)
        return data


class WaitlistForm(forms.ModelForm):
    patient_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    earliest_date = BoundedDateField(widget=DATE, required=False, bounds=schedule_bounds)
    latest_date = BoundedDateField(widget=DATE, required=False, bounds=schedule_bounds)

    class Meta:
        model = WaitlistEntry
        fields = ["appointment_type", "location", "clinician", "earliest_date", "latest_date"]

    def __init__(self, *args: Any, locations: QuerySet[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]
        self.fields["clinician"].queryset = clinician_choices()  # type: ignore[attr-defined]
        self.fields["appointment_type"].queryset = AppointmentType.objects.filter(is_active=True)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("earliest_date"), data.get("latest_date")
        if first and last and last < first:
            raise ValidationError({"latest_date": "The latest date is before the earliest."})
        return data


class AppointmentTypeForm(forms.ModelForm):
    class Meta:
        model = AppointmentType
        fields = [
            "name", "duration_minutes", "locations", "clinicians", "preparation_instructions",
            "reminders_apply", "bookable_online", "name_safe_to_text", "variable_length", "is_active",
        ]  # fmt: skip
        widgets = {"locations": forms.CheckboxSelectMultiple, "clinicians": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clinicians"].queryset = clinician_choices()  # type: ignore[attr-defined]
        self.fields["preparation_instructions"].label = "Preparation instructions (English)"
        self.fields[
            "preparation_instructions"
        ].help_text = "Shown to patients in the portal with the visit (what to bring, fasting). Never texted."
        # One optional translation per other supported language, right after the English text.
        stored = self.instance.preparation_translations or {}
        order = list(self.fields)
        at = order.index("preparation_instructions") + 1
        for language in translation_languages():
            name = f"preparation_{language}"
            self.fields[name] = forms.CharField(
                label=f"Preparation instructions in {language_name(language)} (optional)",
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
                initial=stored.get(language, ""),
                help_text="For patients who prefer this language; empty: they see the English text.",
            )
            order.insert(at, name)
            at += 1
        self.order_fields(order)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ["preparation_instructions"] + [
            f"preparation_{code}" for code in translation_languages()
        ]:
            if has_control_characters(data.get(name) or "", allowed="\n\r\t"):
                self.add_error(name, CONTROL_CHARACTERS_MESSAGE)
        return data

    def save(self, commit: bool = True) -> AppointmentType:
        self.instance.preparation_translations = translations_kept(
            {code: self.cleaned_data.get(f"preparation_{code}", "") for code in translation_languages()}
        )
        saved: AppointmentType = super().save(commit=commit)
        return saved

    def clean_duration_minutes(self) -> int:
        value: int = self.cleaned_data["duration_minutes"]
        if not 5 <= value <= 480:
            raise ValidationError("A visit lasts 5 to 480 minutes.")
        return value


class WorkingHoursForm(forms.ModelForm):
    class Meta:
        model = WorkingHours
        fields = ["location", "weekday", "starts", "ends"]
        widgets = {"starts": TIME, "ends": TIME}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts") and data.get("ends") and data["ends"] <= data["starts"]:
            raise ValidationError({"ends": "Working hours end after they start, on the same day."})
        return data


class TimeOffForm(forms.Form):
    location = forms.ModelChoiceField(
        queryset=Location.objects.all(), required=False, empty_label="All locations"
    )
    first_day = BoundedDateField(widget=DATE, bounds=schedule_bounds)
    last_day = BoundedDateField(widget=DATE, bounds=schedule_bounds)
    reason = forms.CharField(max_length=100, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("first_day") and data.get("last_day") and data["last_day"] < data["first_day"]:
            raise ValidationError({"last_day": "The last day is before the first."})
        return data

    def time_off(self, clinician: User) -> TimeOff:
        """An unsaved TimeOff from midnight of the first day to midnight after the last, in the zone."""
        data = self.cleaned_data
        zone = (data["location"] or clinician.locations.first() or Location(time_zone="UTC")).zone
        return TimeOff(
            clinician=clinician,
            location=data["location"],
            starts_at=datetime.combine(data["first_day"], datetime.min.time(), tzinfo=zone),
            ends_at=datetime.combine(data["last_day"] + timedelta(days=1), datetime.min.time(), tzinfo=zone),
            reason=data["reason"],
        )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text="UTF-8 CSV with a header row; the columns are listed below.",
    )
