"""Input of the inbox pages: the filters, the composer, internal notes, tags and the simulator."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from careline.core.dates import BoundedDateTimeField, schedule_bounds
from careline.core.phones import parse_phone
from careline.messaging.services.attachments import attachment_type


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False, choices=[("open", "Open"), ("closed", "Closed"), ("all", "Open and closed")]
    )
    show = forms.ChoiceField(
        label="Assigned",
        required=False,
        choices=[("", "Anyone"), ("mine", "Mine"), ("unassigned", "Unassigned")],
    )
    location = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=[])
    tag = forms.ChoiceField(required=False, choices=[])
    q = forms.CharField(
        label="Search conversations",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Message text, name or phone"}),
    )

    def __init__(self, *args: Any, locations: list[Any], tags: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        location_field: Any = self.fields["location"]
        location_field.choices = [("", "All my locations")] + [(loc.pk, loc.name) for loc in locations]
        tag_field: Any = self.fields["tag"]
        tag_field.choices = [("", "Any tag")] + [(tag, tag) for tag in tags]


class ComposeForm(forms.Form):
    body = forms.CharField(
        label="Message",
        required=False,
        max_length=settings.CARELINE_MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    image = forms.FileField(label="Image (JPEG, PNG or GIF, up to 5 MB)", required=False)
    send_at = BoundedDateTimeField(
        bounds=schedule_bounds,
        label="Send later (optional)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="In the patient's time zone. Leave empty to send now.",
    )

    def __init__(self, *args: Any, zone: zoneinfo.ZoneInfo, **kwargs: Any) -> None:
        self.zone = zone
        super().__init__(*args, **kwargs)

    def clean_image(self) -> Any:
        image = self.cleaned_data.get("image")
        if image:
            attachment_type(image)
        return image

    def clean_send_at(self) -> datetime | None:
        value = self.cleaned_data.get("send_at")
        if value is None:
            return None
        # The browser sends a wall-clock time; it means the patient's (or location's) local time.
        local = value.replace(tzinfo=None).replace(tzinfo=self.zone)
        if local <= timezone.now():
            raise ValidationError("Choose a time in the future, or leave it empty to send now.")
        return local

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("body") or "").strip() and not data.get("image") and not self.errors:
            raise ValidationError("Write a message or attach an image.")
        return data


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Internal note (staff only)", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class TagForm(forms.Form):
    name = forms.CharField(label="Add a tag", max_length=40)


class SimulatorForm(forms.Form):
    number = forms.CharField(label="Patient's number", max_length=40)
    body = forms.CharField(label="Text", max_length=1600, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_number(self) -> str:
        return parse_phone(self.cleaned_data["number"])
