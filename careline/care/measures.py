"""What care programs measure: each measure's canonical unit, LOINC codes, plausible range and example.

A pure module (no models): the parser, the thresholds and the texts share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import models


class Measure(models.TextChoices):
    BLOOD_PRESSURE = "blood_pressure", "Blood pressure"
    GLUCOSE_FASTING = "glucose_fasting", "Glucose (fasting)"
    GLUCOSE_AFTER_MEAL = "glucose_after_meal", "Glucose (after a meal)"
    WEIGHT = "weight", "Weight"
    SPO2 = "spo2", "Oxygen saturation (SpO2)"
    TEMPERATURE = "temperature", "Temperature"
    PAIN = "pain", "Pain (0–10)"
    SYMPTOM = "symptom", "Symptom question (yes/no)"


GLUCOSE_MEASURES = frozenset({Measure.GLUCOSE_FASTING, Measure.GLUCOSE_AFTER_MEAL})


@dataclass(frozen=True)
class MeasureFacts:
    """A measure's canonical unit, LOINC code(s), plausible range of its value (and second value) and example."""

    unit: str
    loinc: str
    low: Decimal
    high: Decimal
    loinc2: str = ""  # the second value's code (diastolic)
    low2: Decimal | None = None
    high2: Decimal | None = None
    decimals: int = 0


MEASURE_FACTS: dict[str, MeasureFacts] = {
    # Canonical units: mmHg, mg/dL, kg, %, °C, a 0–10 score; the patient's own unit is kept on the reading.
    Measure.BLOOD_PRESSURE: MeasureFacts(
        unit="mmHg",
        loinc="8480-6",
        low=Decimal(50),
        high=Decimal(300),
        loinc2="8462-4",
        low2=Decimal(20),
        high2=Decimal(200),
    ),
    Measure.GLUCOSE_FASTING: MeasureFacts(unit="mg/dL", loinc="2339-0", low=Decimal(20), high=Decimal(1000)),
    Measure.GLUCOSE_AFTER_MEAL: MeasureFacts(
        unit="mg/dL", loinc="2339-0", low=Decimal(20), high=Decimal(1000)
    ),
    Measure.WEIGHT: MeasureFacts(unit="kg", loinc="29463-7", low=Decimal(20), high=Decimal(350), decimals=1),
    Measure.SPO2: MeasureFacts(unit="%", loinc="59408-5", low=Decimal(50), high=Decimal(100)),
    Measure.TEMPERATURE: MeasureFacts(
        unit="°C", loinc="8310-5", low=Decimal(30), high=Decimal(45), decimals=1
    ),
    Measure.PAIN: MeasureFacts(unit="{score}", loinc="72514-3", low=Decimal(0), high=Decimal(10)),
    Measure.SYMPTOM: MeasureFacts(unit="{yes/no}", loinc="", low=Decimal(0), high=Decimal(1)),
}
PULSE_LOINC = "8867-4"
PULSE_RANGE = (Decimal(20), Decimal(250))
MG_DL_PER_MMOL_L = Decimal("18.016")
KG_PER_LB = Decimal("0.45359237")


def plain_number(number: Decimal | None) -> str:
    """NUMBER as shown: no trailing zeros ("82.5", "150")."""
    if number is None:
        return ""
    text = format(number.normalize(), "f")
    return text


def reading_text(measure: str, value: Decimal, value2: Decimal | None = None) -> str:
    """How a reading reads in a confirmation ("150/95", "110 mg/dL", "82.5 kg"): values only, no judgement."""
    facts = MEASURE_FACTS[measure]
    if measure == Measure.BLOOD_PRESSURE:
        return f"{plain_number(value)}/{plain_number(value2)}"
    if measure == Measure.PAIN:
        return f"{plain_number(value)}/10"
    if measure == Measure.SYMPTOM:
        return "yes" if value else "no"
    if facts.unit == "%":
        return f"{plain_number(value)}%"
    return f"{plain_number(value)} {facts.unit}"
