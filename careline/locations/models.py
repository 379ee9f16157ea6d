"""Clinic sites and their opening hours."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import models


def validate_time_zone(value: str) -> None:
    """Refuse anything but an IANA time zone name."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "“%(value)s” is not a time zone name such as America/New_York.", params={"value": value}
        ) from None


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Location(models.Model):
    """A clinic site. Its time zone governs appointment times and opening hours."""

    name = models.CharField(max_length=120, unique=True)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField("state or region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")
    phone = models.CharField(max_length=20, help_text="E.164")
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    directions = models.TextField(
        blank=True, help_text="How to find the entrance and park; shown to patients in the portal"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def address(self) -> str:
        parts = [
            self.address_line1,
            self.address_line2,
            self.city,
            f"{self.region} {self.postal_code}".strip(),
        ]
        return ", ".join(part for part in parts if part)

    @property
    def map_url(self) -> str:
        """A map search for the address (OpenStreetMap; nothing but the address leaves Careline)."""
        from urllib.parse import urlencode

        query = ", ".join(part for part in (self.address, self.country) if part)
        return f"https://www.openstreetmap.org/search?{urlencode({'query': query})}"

    def is_open_at(self, moment: datetime) -> bool:
        """Whether the location is open at MOMENT (aware), counting split shifts and hours past midnight."""
        local = moment.astimezone(self.zone)
        return any(period.covers(local) for period in self.opening_hours.all())


class OpeningHours(models.Model):
    """One opening period on a weekday. Several per day make a split shift; closes <= opens runs past midnight."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["location", "weekday", "opens"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.UniqueConstraint(
                fields=["location", "weekday", "opens"], name="opening_hours_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    @property
    def crosses_midnight(self) -> bool:
        return self.closes <= self.opens

    def covers(self, local: datetime) -> bool:
        """Whether LOCAL (in the location's zone) falls in this period, including its part after midnight."""
        clock = local.time().replace(tzinfo=None)
        if local.weekday() == self.weekday:
            if self.crosses_midnight:
                return clock >= self.opens
            return self.opens <= clock < self.closes
        yesterday = (local - timedelta(days=1)).weekday()
        return self.crosses_midnight and yesterday == self.weekday and clock < self.closes


def parse_hours_range(text: str) -> tuple[time, time]:
    """'08:00-12:30' to a pair of times; ValueError with a readable message otherwise."""
    try:
        start_text, end_text = (part.strip() for part in text.replace("–", "-").split("-", 1))
        return time.fromisoformat(start_text), time.fromisoformat(end_text)
    except ValueError:
        raise ValueError(f"“{text}” is not a range like 08:00-17:30") from None
