"""Input for the location pages: details, and opening hours typed per weekday as "08:00-12:00, 13:00-17:00"."""

from __future__ import annotations

import zoneinfo
from datetime import time
from functools import lru_cache
from typing import Any

import phonenumbers
from django import forms

from careline.core.phones import parse_phone
from careline.locations.models import Location, Weekday, parse_hours_range
from careline.locations.services import DETAIL_FIELDS

Period = tuple[time, time]


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_day_hours(text: str) -> list[Period]:
    """'08:00-12:00, 13:00-17:00' to sorted periods; '' is closed. ValueError with a readable message."""
    periods: list[Period] = []
    for chunk in (text or "").replace(";", ",").split(","):
        if chunk.strip():
            periods.append(parse_hours_range(chunk.strip()))
    periods.sort()
    for index, (opens, closes) in enumerate(periods):
        crosses = closes <= opens
        if crosses and index != len(periods) - 1:
            raise ValueError(
                f"{opens:%H:%M}-{closes:%H:%M} runs past midnight, so it must be the day's last period."
            )
        if index + 1 < len(periods):
            next_opens = periods[index + 1][0]
            if next_opens == opens:
                raise ValueError(f"Two periods start at {opens:%H:%M}.")
            if not crosses and next_opens < closes:
                raise ValueError(
                    f"{opens:%H:%M}-{closes:%H:%M} overlaps the next period, which opens at {next_opens:%H:%M}."
                )
    return periods


def format_day_hours(periods: list[Period]) -> str:
    """The reverse of parse_day_hours, for showing stored hours in the form."""
    return ", ".join(f"{opens:%H:%M}-{closes:%H:%M}" for opens, closes in periods)


def hours_field_name(weekday: int) -> str:
    return f"hours_{weekday}"


class LocationForm(forms.ModelForm):
    phone = forms.CharField(
        max_length=40, help_text="The number patients call, e.g. (312) 555-0100 or +1 312 555 0100."
    )

    class Meta:
        model = Location
        fields = list(DETAIL_FIELDS)
        help_texts = {
            "country": "Two-letter code, e.g. US. Phone numbers without + are read for this country.",
            "time_zone": "IANA name, e.g. America/Chicago. Appointment times and opening hours use it.",
        }

    def __init__(self, *args: Any, hours: dict[int, list[Period]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in Weekday:
            self.fields[hours_field_name(day.value)] = forms.CharField(
                label=day.label,
                required=False,
                max_length=200,
                initial=format_day_hours((hours or {}).get(day.value, [])),
                help_text="e.g. 08:00-12:00, 13:00-17:00 · empty when closed · 22:00-06:00 runs past midnight"
                if day.value == 0
                else "",
            )

    def clean_country(self) -> str:
        country = str(self.cleaned_data["country"]).strip().upper()
        if country not in phonenumbers.SUPPORTED_REGIONS:
            raise forms.ValidationError("Use a two-letter country code such as US or CA.")
        return country

    def clean_phone(self) -> str:
        # Numbers written without + are read for the location's own country.
        return parse_phone(str(self.cleaned_data["phone"]), region=self.cleaned_data.get("country") or None)

    def clean_time_zone(self) -> str:
        value = str(self.cleaned_data["time_zone"]).strip()
        if value not in _known_zones():
            raise forms.ValidationError(f"“{value[:64]}” is not a time zone name such as America/New_York.")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        hours: dict[int, list[Period]] = {}
        for day in Weekday:
            name = hours_field_name(day.value)
            try:
                hours[day.value] = parse_day_hours(str(cleaned.get(name) or ""))
            except ValueError as error:
                self.add_error(name, str(error))
        cleaned["hours"] = hours
        return cleaned
