"""Input for outreach: a saved audience, a campaign's text and time, a location's birthday messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from careline.messaging.templating import TemplateKind, TemplateProblem, fields_help, template_validate
from careline.outreach.models import Audience, CampaignOffer
from careline.outreach.services.recalls import audience_check
from careline.scheduling.models import AppointmentType

INPUT_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")
TEXT_HELP = fields_help(TemplateKind.ANNOUNCEMENT) + ". No clinical detail."


def _other_languages() -> list[tuple[str, str]]:
    return [(code, name) for code, name in settings.LANGUAGES if code != "en"]


def _template_clean(text: str) -> str:
    text = (text or "").strip()
    if text:
        try:
            template_validate(text, kind=TemplateKind.ANNOUNCEMENT)
        except TemplateProblem as problem:
            raise ValidationError(str(problem)) from problem
    return text


class TranslatedTextsMixin(forms.Form):
    """One optional text field per language of settings.LANGUAGES besides English (text_<code>)."""

    def _add_language_fields(self, initial: dict[str, str]) -> None:
        for code, name in _other_languages():
            self.fields[f"text_{code}"] = forms.CharField(
                label=f"Text in {name}",
                required=False,
                max_length=settings.CARELINE_MAX_MESSAGE_LENGTH,
                widget=forms.Textarea(attrs={"rows": 3}),
                initial=initial.get(code, ""),
                help_text="Blank: the English text, or Careline's own in that language when that is blank too.",
            )

    def translations(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for code, _ in _other_languages():
            found[code] = _template_clean(self.cleaned_data.get(f"text_{code}", ""))
        return found


class AudienceForm(forms.ModelForm):
    class Meta:
        model = Audience
        fields = [
            "name",
            "location",
            "rule",
            "visit_type",
            "after_type",
            "months",
            "weeks",
            "vaccine",
            "min_age",
            "max_age",
            "care_related",
        ]
        labels = {
            "visit_type": "Appointment type due",
            "after_type": "After a visit of type",
            "min_age": "Youngest age",
            "max_age": "Oldest age",
            "care_related": "Care-related (no marketing consent needed)",
        }

    def __init__(self, *args: Any, locations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]
        types = AppointmentType.objects.filter(is_active=True).order_by("name")
        self.fields["visit_type"].queryset = types  # type: ignore[attr-defined]
        self.fields["after_type"].queryset = types  # type: ignore[attr-defined]
        self.fields["months"].validators.append(_at_most(120))
        self.fields["weeks"].validators.append(_at_most(104))

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # copies the cleaned values onto the instance
        if not self.errors:
            try:
                audience_check(self.instance)
            except ValidationError as problem:
                self.add_error(None, problem)


def _at_most(limit: int) -> Any:
    def check(value: int) -> None:
        if value is not None and value > limit:
            raise ValidationError(f"At most {limit}.")

    return check


class CampaignForm(TranslatedTextsMixin):
    body = forms.CharField(
        label="Text in English",
        required=False,
        max_length=settings.CARELINE_MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Blank: Careline's own recall text. "
        + TEXT_HELP
        + " How to book is added in the patient's language.",
    )
    offer = forms.ChoiceField(label="How patients book", choices=CampaignOffer.choices)
    send_at = forms.CharField(
        label="Send at",
        max_length=20,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="On the location's clock; blank: now. Texts wait for the texting window.",
    )

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self._add_language_fields({})

    def clean_body(self) -> str:
        return _template_clean(self.cleaned_data.get("body", ""))

    def clean_send_at(self) -> datetime | None:
        text = (self.cleaned_data.get("send_at") or "").strip()
        if not text:
            return None
        for fmt in INPUT_FORMATS:
            try:
                value = datetime.strptime(text, fmt)
            except ValueError:
                continue
            if not 2000 <= value.year <= 2100:
                raise ValidationError("Enter a date between 2000 and 2100.")
            return value.replace(tzinfo=self.zone)
        raise ValidationError("Enter a date and time such as 2026-12-24 10:00.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            cleaned["translations"] = self.translations()
        except ValidationError as problem:
            raise ValidationError(problem.messages) from problem
        return cleaned


class BirthdayForm(TranslatedTextsMixin):
    enabled = forms.BooleanField(label="Send birthday messages at this location", required=False)
    template = forms.CharField(
        label="Text in English",
        required=False,
        max_length=settings.CARELINE_MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Blank: Careline's own greeting. " + TEXT_HELP,
    )

    def __init__(self, *args: Any, translations: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._add_language_fields(translations)

    def clean_template(self) -> str:
        return _template_clean(self.cleaned_data.get("template", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            cleaned["translations"] = self.translations()
        except ValidationError as problem:
            raise ValidationError(problem.messages) from problem
        return cleaned
