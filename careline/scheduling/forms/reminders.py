"""The reminder rule form: timing mode, channel, appointment types and locations, templates per language."""

from __future__ import annotations

from typing import Any

from django import forms

from careline.core.languages import language_name, translation_languages
from careline.locations.models import Location
from careline.messaging.templating import TemplateKind, TemplateProblem, fields_help, template_validate
from careline.scheduling.models import AppointmentType, ReminderRule

TIMING_CHOICES = [("days", "Days before, at a local time"), ("minutes", "Minutes before the visit")]


class ReminderRuleForm(forms.ModelForm):
    """A reminder rule; templates may use only the allow-listed fields and no opt-out words as replies."""

    timing = forms.ChoiceField(choices=TIMING_CHOICES, widget=forms.RadioSelect, initial="days")
    appointment_types = forms.ModelMultipleChoiceField(
        queryset=AppointmentType.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type (types marked 'no reminders' are never reminded).",
    )
    locations = forms.ModelMultipleChoiceField(
        queryset=Location.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every location.",
    )

    class Meta:
        model = ReminderRule
        fields = [
            "name",
            "timing",
            "days_before",
            "at_local_time",
            "minutes_before",
            "channel",
            "appointment_types",
            "locations",
            "template_en",
            "is_active",
        ]
        labels = {
            "days_before": "Days before",
            "at_local_time": "At (patient's local time)",
            "minutes_before": "Minutes before",
            "template_en": "Text in English",
            "is_active": "In use",
        }
        widgets = {
            "at_local_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "template_en": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template_en"].help_text = (
            f"{fields_help(TemplateKind.REMINDER)}. {{visit_type}} is the appointment type's name when the "
            "type is marked safe to text, otherwise “visit” (“cita” in Spanish). The reply sentence (Reply C to confirm, R to reschedule or X to "
            "cancel) is added to every text."
        )
        if self.instance.pk and self.instance.minutes_before is not None:
            self.initial["timing"] = "minutes"
        # One optional text per other supported language (settings.LANGUAGES), before "In use".
        stored = self.instance.translations or {}
        is_active = self.fields.pop("is_active")
        for language in translation_languages():
            self.fields[f"template_{language}"] = forms.CharField(
                label=f"Text in {language_name(language)} (optional)",
                required=False,
                widget=forms.Textarea(attrs={"rows": 4}),
                initial=stored.get(language, ""),
                help_text="Sent to patients who prefer this language; empty: they get the English text.",
            )
        self.fields["is_active"] = is_active

    def _clean_template(self, name: str) -> str:
        text = (self.cleaned_data.get(name) or "").strip()
        if text:
            try:
                template_validate(text, kind=TemplateKind.REMINDER)
            except TemplateProblem as problem:
                raise forms.ValidationError(str(problem)) from None
        return text

    def clean_template_en(self) -> str:
        text = self._clean_template("template_en")
        if not text:
            raise forms.ValidationError("Write the English text.")
        return text

    def translations(self) -> dict[str, str]:
        """The cleaned text per other language (empty ones included)."""
        return {
            language: self.cleaned_data.get(f"template_{language}", "")
            for language in translation_languages()
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for language in translation_languages():
            name = f"template_{language}"
            if name in data:
                try:
                    data[name] = self._clean_template(name)
                except forms.ValidationError as problem:
                    self.add_error(name, problem)
        if data.get("timing") == "minutes":
            if not data.get("minutes_before"):
                self.add_error("minutes_before", "Say how many minutes before the visit.")
            elif data["minutes_before"] > 60 * 24 * 30:
                self.add_error("minutes_before", "At most 30 days (43,200 minutes) before.")
            data["days_before"] = data["at_local_time"] = None
        else:
            if data.get("days_before") is None:
                self.add_error("days_before", "Say how many days before the visit.")
            elif data["days_before"] > 60:
                self.add_error("days_before", "At most 60 days before.")
            if not data.get("at_local_time"):
                self.add_error("at_local_time", "Say at what local time.")
            data["minutes_before"] = None
        return data
