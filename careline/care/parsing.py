"""Readings in a patient's free text, in English and Spanish: "128/82", "BP 150/95 pulse 88", "sugar 110",
"glucosa 180 en ayunas", "weight 182 lb", "o2 94%", "temp 101.3", "dolor 7".

A pure module (no database): `reading_parse(text, expected=...)` answers what the text says in canonical
units (mmHg, mg/dL, kg, %, °C, a 0–10 score) with the patient's own value and unit kept, or that a value is
implausible (asked again, never stored), or that nothing could be read (answered with an example).
EXPECTED names the measures the check-in asked for, so a bare "110" is the glucose that was asked for.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from careline.care.measures import (
    GLUCOSE_MEASURES,
    KG_PER_LB,
    MEASURE_FACTS,
    MG_DL_PER_MMOL_L,
    PULSE_RANGE,
    Measure,
)


class Outcome(StrEnum):
    READ = "read"  # every value found is plausible
    IMPLAUSIBLE = "implausible"  # a value was found but cannot be right (asked again, nothing stored)
    UNREADABLE = "unreadable"  # no value found


@dataclass(frozen=True)
class ParsedReading:
    """One measurement read from the text, in the canonical unit, with what the patient wrote."""

    measure: str
    value: Decimal
    value2: Decimal | None = None  # diastolic
    pulse: Decimal | None = None
    original_value: str = ""
    original_unit: str = ""


@dataclass(frozen=True)
class ParseResult:
    outcome: Outcome
    readings: list[ParsedReading] = field(default_factory=list)
    implausible: list[str] = field(default_factory=list)  # the measures whose value cannot be right


NUMBER = r"(\d{1,4}(?:[.,]\d{1,2})?)"
_BP = re.compile(
    r"(?<![\d.])(\d{1,3})\s*(?:/|\\|over|sobre|por|x|-|\s)\s*(\d{1,3})(?![\d.%])(?!\s*(?:kg|lb|%|mg|mmol|f\b|c\b))"
)
_BP_WORDS = re.compile(r"\b(bp|b/p|blood pressure|presion(?: arterial)?|pa|tension(?: arterial)?|ta)\b")
_PULSE = re.compile(
    r"\b(?:pulse|pulso|hr|heart rate|heartrate|ritmo(?: cardiaco)?|pulsaciones|fc|bpm)\s*(?:is|es|de|:|=)?\s*(\d{2,3})\b"
    r"|\b(\d{2,3})\s*(?:bpm|pulso|pulse)\b"
)
_PAIN = re.compile(
    r"\b(?:pain|dolor|pain level|nivel de dolor)\b\D{0,12}?(\d{1,2}(?:[.,]5)?)(?:\s*(?:/|out of|de)\s*10)?"
    r"|(?<![\d/])(\d{1,2})\s*(?:/|out of|de)\s*10\b"
)
_GLUCOSE_WORDS = re.compile(
    r"\b(sugar|sugars|glucose|gluc|glucosa|azucar|bs|bg|cbg|fbs|a\.?m\.? sugar|blood sugar|nivel de azucar)\b"
)
_MMOL = re.compile(r"mmol")
_MGDL = re.compile(r"mg\s*/?\s*dl|mgdl")
_FASTING = re.compile(
    r"\b(fasting|fasted|before breakfast|ayunas|ayuno|en ayunas|antes del desayuno|antes de desayunar|morning|manana)\b"
)
_AFTER_MEAL = re.compile(
    r"\b(after (?:a )?(?:meal|eating|lunch|dinner|breakfast|supper|food)|post ?meal|postprandial|pp|"
    r"(?:despues|luego) de (?:comer|la comida|cenar|desayunar|almorzar)|\d ?(?:hr|hrs|hours|horas) after)\b"
)
_WEIGHT_WORDS = re.compile(r"\b(weight|weigh|weighed|wt|peso|pese|pesaba|peso es|i weigh)\b")
_KG = re.compile(NUMBER + r"\s*(?:kg|kgs|kilo|kilos|kilogramos|kilograms)\b")
_LB = re.compile(NUMBER + r"\s*(?:lb|lbs|pound|pounds|libras|libra)\b")
_SPO2_WORDS = re.compile(
    r"\b(o2|spo2|sp02|sat|sats|saturation|saturacion|oxygen|oxigeno|oximetro|pulse ox|pulseox|ox)\b"
)
_PERCENT = re.compile(r"(\d{2,3})\s*(?:%|percent|por ?ciento)")
_TEMP_WORDS = re.compile(r"\b(temp|temperature|temperatura|fever|fiebre|tmp)\b")
_DEGREES = re.compile(NUMBER + r"\s*(?:°|º|deg|degrees|grados)?\s*(f|c|fahrenheit|celsius|centigrados)\b")
_DEGREE_SIGN = re.compile(NUMBER + r"\s*(?:°|º)")
_YES = frozenset({"yes", "y", "yeah", "yep", "si", "s", "sip", "claro"})
_NO = frozenset({"no", "n", "nope", "nah", "nop"})
_BARE = re.compile(r"(?<![\d.])" + NUMBER + r"(?![\d])")


def normalized(text: str) -> str:
    """TEXT lower-cased, accents dropped, decimal commas made points ("82,5" -> "82.5"), spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch) or ch in "°º")
    plain = plain.lower().replace("º", "°")
    # "2,000" is a thousands separator; "82,5" a decimal comma.
    plain = re.sub(r"(\d),(\d{3})(?!\d)", r"\1\2", plain)
    plain = re.sub(r"(\d),(\d{1,2})(?!\d)", r"\1.\2", plain)
    return re.sub(r"\s+", " ", plain).strip()


def _number(raw: str) -> Decimal | None:
    try:
        number = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _rounded(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


class _Reader:
    def __init__(self, text: str, expected: Sequence[str]) -> None:
        self.text = normalized(text)
        self.rest = self.text  # what is left once a value is taken, so one number is read once
        self.expected = [str(m) for m in expected]
        numeric = [m for m in self.expected if m != Measure.SYMPTOM]
        # The one numeric measure asked for (a bare number is that measure), if only one was.
        self.only = numeric[0] if len(numeric) == 1 else None
        self.readings: list[ParsedReading] = []
        self.implausible: list[str] = []

    def take(self, match: re.Match[str]) -> None:
        start, end = match.span()
        self.rest = self.rest[:start] + " " * (end - start) + self.rest[end:]

    def add(self, reading: ParsedReading) -> None:
        facts = MEASURE_FACTS[reading.measure]
        ok = facts.low <= reading.value <= facts.high
        if reading.value2 is not None and facts.low2 is not None and facts.high2 is not None:
            ok = ok and facts.low2 <= reading.value2 <= facts.high2 and reading.value2 < reading.value
        if reading.pulse is not None:
            ok = ok and PULSE_RANGE[0] <= reading.pulse <= PULSE_RANGE[1]
        if ok:
            self.readings.append(reading)
        elif reading.measure not in self.implausible:
            self.implausible.append(reading.measure)

    # Each measure -------------------------------------------------------------------------------------------

    def blood_pressure(self) -> None:
        match = None
        for candidate in _BP.finditer(self.rest):
            before = self.rest[: candidate.start()]
            # "o2 94" is no pressure; "bp150/95" is.
            if before[-1:].isalpha() and not re.search(r"(bp|pa|ta)$", before):
                continue
            # "150 95" (a space only) is read as a pressure only when one was asked for or named.
            separator = self.rest[candidate.end(1) : candidate.start(2)].strip()
            if not separator and not (_BP_WORDS.search(self.text) or self.only == Measure.BLOOD_PRESSURE):
                continue
            match = candidate
            break
        if match is None:
            return
        self.take(match)
        pulse = None
        pulse_match = _PULSE.search(self.rest)
        if pulse_match:
            pulse = _number(pulse_match.group(1) or pulse_match.group(2))
            self.take(pulse_match)
        systolic, diastolic = Decimal(match.group(1)), Decimal(match.group(2))
        self.add(
            ParsedReading(
                measure=Measure.BLOOD_PRESSURE,
                value=systolic,
                value2=diastolic,
                pulse=pulse,
                original_value=f"{match.group(1)}/{match.group(2)}",
                original_unit="mmHg",
            )
        )

    def pain(self) -> None:
        match = _PAIN.search(self.rest)
        if match is None:
            return
        raw = match.group(1) or match.group(2)
        value = _number(raw)
        if value is None:
            return
        self.take(match)
        self.add(ParsedReading(measure=Measure.PAIN, value=value, original_value=raw, original_unit="/10"))

    def weight(self) -> None:
        for pattern, unit in ((_KG, "kg"), (_LB, "lb")):
            match = pattern.search(self.rest)
            if match:
                value = _number(match.group(1))
                if value is None:
                    continue
                self.take(match)
                kg = value if unit == "kg" else value * KG_PER_LB
                self.add(
                    ParsedReading(
                        measure=Measure.WEIGHT,
                        value=_rounded(kg, 1),
                        original_value=match.group(1),
                        original_unit=unit,
                    )
                )
                return
        if _WEIGHT_WORDS.search(self.text) or self.only == Measure.WEIGHT:
            number = self._labelled_number(_WEIGHT_WORDS)
            if number is not None:
                raw, value = number
                # Without a unit, a weight is in pounds (the clinic's scale); a patient writes "kg" otherwise.
                self.add(
                    ParsedReading(
                        measure=Measure.WEIGHT,
                        value=_rounded(value * KG_PER_LB, 1),
                        original_value=raw,
                        original_unit="lb",
                    )
                )

    def spo2(self) -> None:
        named = _SPO2_WORDS.search(self.text)
        match = _PERCENT.search(self.rest)
        if match and (named or not _PAIN.search(self.text)):
            self.take(match)
            self.add(
                ParsedReading(
                    measure=Measure.SPO2,
                    value=Decimal(match.group(1)),
                    original_value=match.group(1),
                    original_unit="%",
                )
            )
            return
        if named or self.only == Measure.SPO2:
            number = self._labelled_number(_SPO2_WORDS)
            if number is not None:
                raw, value = number
                self.add(
                    ParsedReading(measure=Measure.SPO2, value=value, original_value=raw, original_unit="%")
                )

    def temperature(self) -> None:
        match = _DEGREES.search(self.rest)
        unit = ""
        raw = ""
        if match:
            raw, unit = match.group(1), match.group(2)[0]
            self.take(match)
        elif (
            _TEMP_WORDS.search(self.text)
            or self.only == Measure.TEMPERATURE
            or _DEGREE_SIGN.search(self.rest)
        ):
            sign = _DEGREE_SIGN.search(self.rest)
            if sign:
                raw = sign.group(1)
                self.take(sign)
            else:
                number = self._labelled_number(_TEMP_WORDS)
                if number is None:
                    return
                raw = number[0]
        if not raw:
            return
        value = _number(raw)
        if value is None:
            return
        if not unit:
            unit = "f" if value > 50 else "c"  # 101.3 is Fahrenheit, 38.5 Celsius
        celsius = (value - 32) * 5 / 9 if unit == "f" else value
        self.add(
            ParsedReading(
                measure=Measure.TEMPERATURE,
                value=_rounded(celsius, 1),
                original_value=raw,
                original_unit="°F" if unit == "f" else "°C",
            )
        )

    def glucose(self) -> None:
        named = _GLUCOSE_WORDS.search(self.text)
        asked = [m for m in self.expected if m in GLUCOSE_MEASURES]
        mmol = _MMOL.search(self.text)
        mgdl = _MGDL.search(self.text)
        if not (named or mmol or mgdl or self.only in GLUCOSE_MEASURES):
            return
        number = self._labelled_number(_GLUCOSE_WORDS)
        if number is None:
            return
        raw, value = number
        # A value with decimals under 35 and no unit is mmol/L, as meters outside the US show it.
        in_mmol = bool(mmol) or (not mgdl and value < 35 and value != value.to_integral_value())
        mg_dl = _rounded(value * MG_DL_PER_MMOL_L, 0) if in_mmol else _rounded(value, 0)
        if _AFTER_MEAL.search(self.text):
            measure = Measure.GLUCOSE_AFTER_MEAL
        elif _FASTING.search(self.text):
            measure = Measure.GLUCOSE_FASTING
        elif asked:
            measure = Measure(asked[0])
        else:
            measure = Measure.GLUCOSE_FASTING
        self.add(
            ParsedReading(
                measure=measure,
                value=mg_dl,
                original_value=raw,
                original_unit="mmol/L" if in_mmol else "mg/dL",
            )
        )

    def symptom(self) -> None:
        if Measure.SYMPTOM not in self.expected:
            return
        words = re.findall(r"[a-z]+", self.rest)
        # A short answer with one yes or no in it ("y", "no thanks", "weight 180 lb, y" once the weight is read).
        answers = [word for word in words if word in _YES or word in _NO]
        if len(words) > 4 or len(answers) != 1:
            return
        word = answers[0]
        value = Decimal(1) if word in _YES else Decimal(0)
        self.readings.append(ParsedReading(measure=Measure.SYMPTOM, value=value, original_value=word))

    def bare_number(self) -> None:
        """A number alone, read as the one numeric measure the check-in asked for."""
        measure = self.only
        if measure is None or any(r.measure == measure for r in self.readings):
            return
        # Glucose, weight, temperature and SpO2 readers take a bare number themselves when asked for it.
        if measure == Measure.PAIN:
            match = _BARE.search(self.rest)
            if match:
                value = _number(match.group(1))
                if value is not None:
                    self.take(match)
                    self.add(ParsedReading(measure=measure, value=value, original_value=match.group(1)))

    def _labelled_number(self, words: re.Pattern[str]) -> tuple[str, Decimal] | None:
        """The number nearest after one of WORDS (else the first number left), taken from the text."""
        label = words.search(self.rest)
        start = label.end() if label else 0
        match = _BARE.search(self.rest, start) or (_BARE.search(self.rest) if label else None)
        if match is None:
            return None
        value = _number(match.group(1))
        if value is None:
            return None
        self.take(match)
        return match.group(1), value


def reading_parse(text: str, *, expected: Sequence[str] = ()) -> ParseResult:
    """What TEXT reports (see the module's docstring); EXPECTED: the measures the check-in asked for."""
    reader = _Reader(text, expected)
    if not reader.text or len(reader.text) > 300:
        return ParseResult(Outcome.UNREADABLE)
    # The most distinctive forms first: 120/80, "7/10", units, then words and bare numbers.
    reader.pain()
    reader.blood_pressure()
    reader.weight()
    reader.temperature()
    reader.spo2()
    reader.glucose()
    reader.symptom()
    reader.bare_number()
    if reader.implausible:
        return ParseResult(Outcome.IMPLAUSIBLE, reader.readings, reader.implausible)
    if not reader.readings:
        return ParseResult(Outcome.UNREADABLE)
    return ParseResult(Outcome.READ, reader.readings)
