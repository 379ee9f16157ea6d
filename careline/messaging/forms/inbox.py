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
from careline.messaging.queries.inbox_list import (
    SHOW_CHOICES,
    SORT_ACTIVITY,
    SORT_CHOICES,
    BadCursor,
    Cursor,
    InboxFilters,
)
from careline.messaging.services.attachments import attachment_type

BAD_CURSOR = "That “Show more” link is not valid; the list starts from the top."


class InboxFilterForm(forms.Form):
    """The list's filters, order and page. Each field that fails is dropped on its own (the rest still apply)."""

    q = forms.CharField(
        label="Search conversations",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, phone or message text"}),
    )
    show = forms.ChoiceField(label="Show", required=False, choices=SHOW_CHOICES)
    status = forms.ChoiceField(
        required=False, choices=[("open", "Open"), ("closed", "Closed"), ("all", "Open and closed")]
    )
    location = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=[])
    tag = forms.ChoiceField(required=False, choices=[])
    sort = forms.ChoiceField(label="Order", required=False, choices=SORT_CHOICES)
    # Paging and the poll: where the page starts, and how many rows the reader has loaded so far.
    after = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    upto = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, *args: Any, locations: list[Any], tags: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        location_field: Any = self.fields["location"]
        location_field.choices = [("", "All my locations")] + [(loc.pk, loc.name) for loc in locations]
        tag_field: Any = self.fields["tag"]
        tag_field.choices = [("", "Any tag")] + [(tag, tag) for tag in tags]

    def clean_after(self) -> Cursor | None:
        raw = self.cleaned_data.get("after") or ""
        if not raw:
            return None
        try:
            return Cursor.decode(raw)
        except BadCursor:
            raise ValidationError(
                "That “Show more” link is not valid; the list starts from the top."
            ) from None

    def clean_upto(self) -> Cursor | None:
        try:
            return Cursor.decode(self.cleaned_data.get("upto") or "")
        except BadCursor:
            return None  # only the list's own poll sends it: the poll then shows the first page

    def filters(self) -> InboxFilters:
        """The filters that were valid (an invalid one falls back to its default)."""
        self.is_valid()
        data = self.cleaned_data
        status = data.get("status") or "open"
        return InboxFilters(
            status="" if status == "all" else status,
            show=data.get("show") or "",
            location_id=data.get("location"),
            tag=data.get("tag") or "",
            text=(data.get("q") or "").strip(),
            sort=data.get("sort") or SORT_ACTIVITY,
        )


# Why a text may not wait for the texting window. A fixed list, so the audit trail records a reason
# without free text that could carry clinical detail.
URGENT_REASONS = [
    ("same_day_change", "A change to a visit today or early tomorrow (closure, delay, cancellation)"),
    ("safety", "The patient must act before the texting window opens"),
    ("patient_asked", "The patient asked to hear back now"),
]


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
    urgent = forms.BooleanField(label="Urgent: send now, even outside quiet hours", required=False)
    urgent_reason = forms.ChoiceField(
        label="Why it cannot wait",
        required=False,
        choices=[("", "Choose a reason…"), *URGENT_REASONS],
    )

    def __init__(
        self, *args: Any, zone: zoneinfo.ZoneInfo, may_send_urgent: bool = False, **kwargs: Any
    ) -> None:
        self.zone = zone
        self.may_send_urgent = may_send_urgent
        super().__init__(*args, **kwargs)

    @property
    def urgent_reason_label(self) -> str:
        """The chosen reason's words (for the audit trail); empty unless the text is urgent."""
        return dict(URGENT_REASONS).get(self.cleaned_data.get("urgent_reason") or "", "")

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
        if data.get("urgent"):
            if not self.may_send_urgent:
                raise ValidationError("You may not send urgent texts; leave “Urgent” unticked.")
            if not data.get("urgent_reason"):
                self.add_error("urgent_reason", "Say why this text cannot wait for the texting window.")
            if data.get("send_at"):
                self.add_error("send_at", "An urgent text goes now; clear the send-later time.")
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
