"""The portal's form of readings: one field per measure of the patient's care program (built from it)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from careline.care.measures import Measure
from careline.care.models import Enrolment
from careline.care.services.portal_readings import MAX_TEXT, NO, YES, PortalAnswer

# The label and the example shown under each field, in the reader's language.
MEASURE_LABELS: dict[str, Any] = {
    Measure.BLOOD_PRESSURE: _("Blood pressure"),
    Measure.GLUCOSE_FASTING: _("Blood sugar, fasting"),
    Measure.GLUCOSE_AFTER_MEAL: _("Blood sugar, after a meal"),
    Measure.WEIGHT: _("Weight"),
    Measure.SPO2: _("Oxygen level (SpO2)"),
    Measure.TEMPERATURE: _("Temperature"),
    Measure.PAIN: _("Pain, from 0 (none) to 10 (worst)"),
}
MEASURE_HELP: dict[str, Any] = {
    Measure.BLOOD_PRESSURE: _("Top and bottom numbers, for example 128/82."),
    Measure.GLUCOSE_FASTING: _("In mg/dL (for example 110) or mmol/L (for example 6.1 mmol)."),
    Measure.GLUCOSE_AFTER_MEAL: _("In mg/dL (for example 140) or mmol/L (for example 7.8 mmol)."),
    Measure.WEIGHT: _("In pounds (for example 180 lb) or kilograms (for example 82.5 kg)."),
    Measure.SPO2: _("In percent, for example 96."),
    Measure.TEMPERATURE: _("In °F (for example 98.6) or °C (for example 37 C)."),
    Measure.PAIN: _("A number from 0 to 10, for example 3."),
}
SOURCE_LABELS: dict[str, Any] = {
    "text": _("Text message"),
    "portal": _("Patient portal"),
    "staff": _("Your care team"),
}
SYMPTOM_LABEL = _("Symptom question")
INPUT_MODE: dict[str, str] = {Measure.SPO2: "decimal", Measure.PAIN: "numeric"}


def measure_label(measure: str) -> Any:
    """MEASURE's name in the reader's language."""
    return SYMPTOM_LABEL if measure == Measure.SYMPTOM else MEASURE_LABELS.get(measure, measure)


def source_label(source: str) -> Any:
    """Who sent a reading, in the reader's language (a text, the portal, the care team by phone)."""
    return SOURCE_LABELS.get(source, source)


class PortalReadingsForm(forms.Form):
    """The readings of ENROLMENT's program: a text field per measure, a yes/no per symptom question."""

    def __init__(self, *args: Any, enrolment: Enrolment, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enrolment = enrolment
        self.measures: dict[str, str] = {}
        for measure in enrolment.program.measures.all():
            name = f"m{measure.pk}"
            self.measures[name] = measure.measure
            if measure.measure == Measure.SYMPTOM:
                question = (
                    measure.question_es if language == "es" and measure.question_es else measure.question_en
                )
                self.fields[name] = forms.ChoiceField(
                    label=question or _("Any new symptoms?"),
                    choices=[(YES, _("Yes")), (NO, _("No"))],
                    widget=forms.RadioSelect,
                    required=False,
                )
                continue
            self.fields[name] = forms.CharField(
                label=measure_label(measure.measure),
                help_text=MEASURE_HELP.get(measure.measure, ""),
                max_length=MAX_TEXT,
                required=False,
                widget=forms.TextInput(
                    attrs={"autocomplete": "off", "inputmode": INPUT_MODE.get(measure.measure, "text")}
                ),
            )

    def answers(self) -> list[PortalAnswer]:
        """What was entered, field by field (empty ones included: the service skips them)."""
        return [
            PortalAnswer(key=name, measure=measure, text=str(self.cleaned_data.get(name) or ""))
            for name, measure in self.measures.items()
        ]
