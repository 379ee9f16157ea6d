"""Input validation for announcements, scheduled messages and messaging administration."""

from __future__ import annotations

import os
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet

from careline.core.dates import BoundedDateTimeField, schedule_bounds
from careline.core.languages import language_name, translation_languages
from careline.core.phones import parse_phone
from careline.locations.models import Location
from careline.messaging.channels.base import ChannelType
from careline.messaging.models import KeywordReplies, MessagingPolicy, SavedReply
from careline.messaging.templating import TemplateKind, TemplateProblem, fields_help, template_validate

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")


def clean_template(text: str, kind: TemplateKind) -> str:
    """TEXT trimmed, or ValidationError with the template's problem as a template of KIND."""
    text = (text or "").strip()
    try:
        template_validate(text, kind=kind)
    except TemplateProblem as problem:
        raise ValidationError(str(problem)) from None
    return text


class AnnouncementForm(forms.Form):
    title = forms.CharField(max_length=100, help_text="For staff only; patients do not see it.")
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=settings.CARELINE_MAX_MESSAGE_LENGTH,
        help_text=fields_help(TemplateKind.ANNOUNCEMENT),
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(),
        required=False,
        empty_label="All my locations",
        help_text="Patients whose primary location this is.",
    )
    language = forms.ChoiceField(choices=[("", "Any language"), *settings.LANGUAGES], required=False)

    def __init__(self, *args: Any, locations: QuerySet[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        location_field = self.fields["location"]
        assert isinstance(location_field, forms.ModelChoiceField)
        location_field.queryset = locations

    def clean_body(self) -> str:
        return clean_template(self.cleaned_data["body"], TemplateKind.ANNOUNCEMENT)


class ScheduledEditForm(forms.Form):
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=settings.CARELINE_MAX_MESSAGE_LENGTH,
    )
    send_at = BoundedDateTimeField(
        bounds=schedule_bounds,
        label="Send at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["send_at"].help_text = f"Local time at the location ({zone.key})."

    def clean_send_at(self) -> datetime:
        value: datetime = self.cleaned_data["send_at"]
        # The browser sends wall-clock time; it means the location's clock, whatever the server's zone.
        local = value.replace(tzinfo=None).replace(tzinfo=self.zone)
        from django.utils import timezone

        if local <= timezone.now():
            raise ValidationError("Pick a time in the future.")
        return local


class ChannelForm(forms.Form):
    """A channel's common settings plus the fields its type declares; secret fields name an env variable."""

    name = forms.CharField(max_length=100)
    address = forms.CharField(max_length=254, help_text="The sender: a phone number, or an email address.")
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
    default_for = forms.ChoiceField(
        choices=[("", "Not a default"), ("sms", "Default for texts"), ("email", "Default for email")],
        required=False,
        label="Default",
        help_text="Automated messages of this kind go out on the default channel.",
    )
    rate_per_second = forms.FloatField(
        required=False,
        min_value=0.01,
        max_value=10000,
        label="Messages per second",
        help_text="Blank: no limit. Holds across every worker.",
    )
    keyword_replies = forms.ChoiceField(
        choices=KeywordReplies.choices,
        label="Who answers STOP, START and HELP",
        help_text="Only one side may answer, or the patient gets two replies.",
    )

    def __init__(self, *args: Any, channel_type: ChannelType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel_type = channel_type
        self.secret_fields: list[str] = []
        for spec in channel_type.config_fields:
            name = f"config_{spec.name}"
            if spec.secret:
                self.secret_fields.append(name)
                self.fields[name] = forms.CharField(
                    label=f"{spec.label}: environment variable",
                    required=spec.required,
                    max_length=100,
                    help_text=(spec.help_text + ". " if spec.help_text else "")
                    + "The NAME of the environment variable holding the secret, named "
                    + channel_type.secret_variable_rule()
                    + "; the secret itself is never stored.",
                )
            else:
                self.fields[name] = forms.CharField(
                    label=spec.label, required=spec.required, max_length=254, help_text=spec.help_text
                )

    def clean_address(self) -> str:
        address = self.cleaned_data["address"].strip()
        if "email" in self.channel_type.capabilities:
            validate_email(address)
            return address
        return parse_phone(address)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.secret_fields:
            value = (data.get(name) or "").strip()
            if value and not ENV_NAME.match(value):
                # Also stops a pasted secret from being saved: tokens are not upper-case variable names.
                self.add_error(
                    name,
                    "Enter the name of an environment variable (capital letters, digits and _), not the secret.",
                )
                data.pop(name, None)
        config = {
            spec.name: (data.get(f"config_{spec.name}") or "").strip()
            for spec in self.channel_type.config_fields
            if f"config_{spec.name}" in data
        }
        for field_name, problem in self.channel_type.config_problems(config, source="ui").items():
            self.add_error(f"config_{field_name}", problem)
        if data.get("default_for") and data["default_for"] not in self.channel_type.capabilities:
            self.add_error("default_for", "This type of channel cannot send that kind of message.")
        return data

    def config(self) -> dict[str, str]:
        """The type's settings from the cleaned data."""
        return {
            spec.name: (self.cleaned_data.get(f"config_{spec.name}") or "").strip()
            for spec in self.channel_type.config_fields
        }

    def secret_status(self) -> list[tuple[str, str, bool]]:
        """(label, variable name, whether it is set in this server's environment) for each secret field."""
        rows = []
        for name in self.secret_fields:
            variable = str(self[name].value() or "")
            # Only for names a channel may use: the page must not tell whether SECRET_KEY & co. are set.
            usable = bool(variable) and not self.channel_type.secret_variable_problem(variable)
            rows.append((str(self.fields[name].label), variable, usable and bool(os.environ.get(variable))))
        return rows


class SavedReplyForm(forms.ModelForm):
    class Meta:
        model = SavedReply
        fields = ["title", "body", "location", "is_active"]
        help_texts = {"body": fields_help(TemplateKind.SAVED_REPLY), "location": "Blank: every location."}
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, locations: QuerySet[Location], allow_all: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        location_field = self.fields["location"]
        assert isinstance(location_field, forms.ModelChoiceField)
        location_field.queryset = locations
        location_field.required = not allow_all
        location_field.empty_label = "Every location" if allow_all else None

    def clean_body(self) -> str:
        return clean_template(self.cleaned_data["body"], TemplateKind.SAVED_REPLY)


class MessagingPolicyForm(forms.ModelForm):
    class Meta:
        model = MessagingPolicy
        fields = [
            "window_start",
            "window_end",
            "after_hours_reply_enabled",
            "after_hours_text",
        ]
        labels = {
            "window_start": "Texting window opens",
            "window_end": "Texting window closes",
            "after_hours_reply_enabled": "Answer texts that arrive while the location is closed",
            "after_hours_text": "After-hours reply",
        }
        help_texts = {
            "window_start": "Leave both times empty to follow the clinic-wide window (CARELINE_TEXTING_WINDOW)",
            "after_hours_text": fields_help(TemplateKind.AFTER_HOURS)
            + ". Keep the emergency guidance (call 911).",
        }
        widgets = {
            "window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "after_hours_text": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_after_hours_text(self) -> str:
        return clean_template(self.cleaned_data["after_hours_text"], TemplateKind.AFTER_HOURS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One optional reply per other supported language (settings.LANGUAGES).
        stored = self.instance.after_hours_translations or {}
        for language in translation_languages():
            self.fields[f"after_hours_text_{language}"] = forms.CharField(
                label=f"After-hours reply in {language_name(language)}",
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                initial=stored.get(language, ""),
                help_text=f"For patients who prefer {language_name(language)}. Blank: they get the English reply.",
            )

    def translations(self) -> dict[str, str]:
        """The cleaned after-hours reply per other language (empty ones included)."""
        return {
            code: self.cleaned_data.get(f"after_hours_text_{code}", "") for code in translation_languages()
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for language in translation_languages():
            name = f"after_hours_text_{language}"
            try:
                text = (data.get(name) or "").strip()
                data[name] = clean_template(text, TemplateKind.AFTER_HOURS) if text else ""
            except forms.ValidationError as problem:
                self.add_error(name, problem)
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and start >= end:
            self.add_error("window_end", "The window must close after it opens (the same day).")
        elif (
            (start is None) != (end is None)
            and not self.has_error("window_start")
            and not self.has_error("window_end")
        ):
            self.add_error("window_end", "Set both times, or leave both empty to use the clinic-wide window.")
        if (
            data.get("after_hours_reply_enabled")
            and not data.get("after_hours_text")
            and "after_hours_text" not in self.errors
        ):
            self.add_error("after_hours_text", "Write the reply, or turn after-hours replies off.")
        return data
