"""Input for the on-call rota: a shift's people and its times on the location's clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from careline.accounts.models import User
from careline.core.permissions import Role
from careline.locations.models import Location
from careline.oncall.services.rota import local_instant

INPUT_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def _local_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=20,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="On the location's clock.",
    )


def parse_local(raw: str) -> datetime:
    """A date and time as typed (naive); ValidationError with an example otherwise."""
    text = (raw or "").strip()
    for fmt in INPUT_FORMATS:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise ValidationError("Enter a date between 2000 and 2100.")
        return value
    raise ValidationError("Enter a date and time such as 2026-12-24 17:00.")


class ShiftForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.none())
    clinician = forms.ModelChoiceField(queryset=User.objects.none(), label="On call")
    backup = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Backup",
        help_text="Paged when the clinician on call does not acknowledge in time.",
    )
    starts_at = _local_field("From")
    ends_at = _local_field("Until")

    def __init__(self, *args: Any, locations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = (
            User.objects.filter(
                is_active=True, locations__in=locations, role_rows__role__in=[Role.CLINICIAN, Role.ADMIN]
            )
            .distinct()
            .order_by("full_name")
        )
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]
        self.fields["clinician"].queryset = people  # type: ignore[attr-defined]
        self.fields["backup"].queryset = people  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        location = cleaned.get("location")
        for name in ("starts_at", "ends_at"):
            raw = self.data.get(self.add_prefix(name), "")
            if name in self.errors:
                continue
            try:
                naive = parse_local(str(raw))
                cleaned[name] = local_instant(naive, location.zone) if location else None
            except ValidationError as error:
                self.add_error(name, error)
        return cleaned
