"""The free-text parser: real-world phrasings in English and Spanish, implausible values, round-trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careline.care.measures import Measure
from careline.care.parsing import Outcome, reading_parse

BP = Measure.BLOOD_PRESSURE
GF = Measure.GLUCOSE_FASTING
GA = Measure.GLUCOSE_AFTER_MEAL
WT = Measure.WEIGHT
O2 = Measure.SPO2
TEMP = Measure.TEMPERATURE
PAIN = Measure.PAIN
SYM = Measure.SYMPTOM

# (text, measures the check-in asked for, (measure, value, second value) read first)
PHRASINGS: list[tuple[str, tuple[str, ...], tuple[str, str, str | None]]] = [
    # blood pressure, English
    ("128/82", (BP,), (BP, "128", "82")),
    ("BP 150/95 pulse 88", (), (BP, "150", "95")),
    ("150 over 95", (), (BP, "150", "95")),
    ("bp150/95", (), (BP, "150", "95")),
    ("My BP is 132/84 this morning", (), (BP, "132", "84")),
    ("blood pressure 118 / 76", (), (BP, "118", "76")),
    ("120 80", (BP,), (BP, "120", "80")),
    ("145/92 hr 70", (BP,), (BP, "145", "92")),
    ("Today 138-88", (BP,), (BP, "138", "88")),
    ("b/p 160/100!!", (), (BP, "160", "100")),
    ("  139\\89 ", (BP,), (BP, "139", "89")),
    ("it was 122 over 78 pulse 64", (), (BP, "122", "78")),
    ("BP: 101/67", (), (BP, "101", "67")),
    ("180/110 feeling dizzy", (BP,), (BP, "180", "110")),
    # blood pressure, Spanish
    ("mi presion es 140/90", (), (BP, "140", "90")),
    ("presión 150 sobre 95", (), (BP, "150", "95")),
    ("Presion arterial 128/79 pulso 72", (), (BP, "128", "79")),
    ("TA 135/85", (), (BP, "135", "85")),
    ("tension 142 por 91", (), (BP, "142", "91")),
    ("hoy 119/75", (BP,), (BP, "119", "75")),
    # glucose, English
    ("sugar 110", (), (GF, "110", None)),
    ("glucose 7.2 mmol", (), (GF, "130", None)),
    ("blood sugar 145 after lunch", (), (GA, "145", None)),
    ("fasting sugar 98", (), (GF, "98", None)),
    ("BS 210 mg/dl", (), (GF, "210", None)),
    ("110", (GF,), (GF, "110", None)),
    ("165", (GA,), (GA, "165", None)),
    ("glucose 6.1 mmol/L fasting", (), (GF, "110", None)),
    ("sugar was 187 2 hrs after dinner", (), (GA, "187", None)),
    ("my sugar this morning 132", (), (GF, "132", None)),
    ("8.4 mmol", (GA,), (GA, "151", None)),
    ("FBS 101", (), (GF, "101", None)),
    # glucose, Spanish
    ("glucosa 180 en ayunas", (), (GF, "180", None)),
    ("azúcar 240 después de comer", (), (GA, "240", None)),
    ("Mi azucar 95", (), (GF, "95", None)),
    ("glucosa 7,5 mmol", (), (GF, "135", None)),
    ("azucar de 130 despues de la comida", (), (GA, "130", None)),
    ("glucosa en ayunas: 102", (), (GF, "102", None)),
    # weight
    ("weight 182 lb", (), (WT, "82.6", None)),
    ("82.5 kg", (), (WT, "82.5", None)),
    ("I weigh 200 pounds", (), (WT, "90.7", None)),
    ("wt 176.4 lbs", (), (WT, "80.0", None)),
    ("182", (WT,), (WT, "82.6", None)),
    ("peso 90 kilos", (), (WT, "90", None)),
    ("82,5 kg", (), (WT, "82.5", None)),
    ("pesé 165 libras hoy", (), (WT, "74.8", None)),
    ("Peso: 70 kg", (), (WT, "70", None)),
    # oxygen
    ("o2 94%", (), (O2, "94", None)),
    ("spo2 97", (), (O2, "97", None)),
    ("sat 91%", (), (O2, "91", None)),
    ("oxygen 96 percent", (), (O2, "96", None)),
    ("98%", (O2,), (O2, "98", None)),
    ("oxigeno 93%", (), (O2, "93", None)),
    ("saturación 95 por ciento", (), (O2, "95", None)),
    ("95", (O2,), (O2, "95", None)),
    # temperature
    ("temp 101.3", (), (TEMP, "38.5", None)),
    ("temperature 98.6F", (), (TEMP, "37.0", None)),
    ("37.8 C", (), (TEMP, "37.8", None)),
    ("fever 102 degrees", (), (TEMP, "38.9", None)),
    ("temperatura 38,2", (), (TEMP, "38.2", None)),
    ("fiebre 39 grados", (), (TEMP, "39.0", None)),
    ("99.1°", (), (TEMP, "37.3", None)),
    ("100.4", (TEMP,), (TEMP, "38.0", None)),
    # pain
    ("pain 7", (), (PAIN, "7", None)),
    ("Pain is 4/10", (), (PAIN, "4", None)),
    ("dolor 8", (), (PAIN, "8", None)),
    ("dolor 10/10", (), (PAIN, "10", None)),
    ("3", (PAIN,), (PAIN, "3", None)),
    ("pain level about 5 out of 10", (), (PAIN, "5", None)),
    ("mi dolor es 6 de 10", (), (PAIN, "6", None)),
    ("0", (PAIN,), (PAIN, "0", None)),
    # symptoms
    ("no", (WT, SYM), (SYM, "0", None)),
    ("Si", (SYM,), (SYM, "1", None)),
    ("yes", (SYM,), (SYM, "1", None)),
]


def test_the_table_has_at_least_sixty_phrasings() -> None:
    assert len(PHRASINGS) >= 60


@pytest.mark.parametrize(("text", "expected", "first"), PHRASINGS, ids=[p[0] for p in PHRASINGS])
def test_a_real_world_phrasing_is_read(
    text: str, expected: tuple[str, ...], first: tuple[str, str, str | None]
) -> None:
    result = reading_parse(text, expected=expected)
    assert result.outcome == Outcome.READ, result
    reading = result.readings[0]
    measure, value, value2 = first
    assert (reading.measure, reading.value, reading.value2) == (
        measure,
        Decimal(value),
        Decimal(value2) if value2 else None,
    )


def test_several_readings_in_one_text_are_all_read() -> None:
    result = reading_parse("BP 150/95 pulse 88 weight 182 lb", expected=(BP, WT))
    assert [r.measure for r in result.readings] == [BP, WT]
    assert result.readings[0].pulse == Decimal(88)


def test_the_original_value_and_unit_are_kept() -> None:
    (reading,) = reading_parse("weight 182 lb").readings
    assert (reading.original_value, reading.original_unit) == ("182", "lb")
    (reading,) = reading_parse("glucose 7.2 mmol").readings
    assert (reading.original_value, reading.original_unit) == ("7.2", "mmol/L")


@pytest.mark.parametrize(
    "text",
    [
        "15/9",
        "400/90",
        "sugar 2,000",
        "glucose 2000",
        "o2 40%",
        "temp 120",
        "weight 5 kg",
        "pain 15",
        "90/120",
    ],
)
def test_an_implausible_value_is_questioned_not_read(text: str) -> None:
    result = reading_parse(text, expected=(BP,))
    assert result.outcome == Outcome.IMPLAUSIBLE
    assert result.readings == []


@pytest.mark.parametrize(
    "text", ["hello", "", "feeling ok", "?", "150", "bien gracias", "x" * 400, "call me", "🙂", "STOPP"]
)
def test_a_text_without_a_reading_is_unreadable(text: str) -> None:
    assert reading_parse(text, expected=(BP,)).outcome == Outcome.UNREADABLE


BP_FORMS = [
    "{s}/{d}",
    "BP {s}/{d}",
    "{s} over {d}",
    "presion {s} sobre {d}",
    "{s} / {d} pulse 70",
    "TA {s}/{d}",
]


@given(st.integers(70, 250), st.integers(40, 69), st.sampled_from(BP_FORMS))
def test_any_plausible_pressure_round_trips(systolic: int, diastolic: int, form: str) -> None:
    result = reading_parse(form.format(s=systolic, d=diastolic))
    assert result.outcome == Outcome.READ
    assert (result.readings[0].value, result.readings[0].value2) == (systolic, diastolic)


GLUCOSE_FORMS = ["sugar {v}", "glucose {v} mg/dl", "glucosa {v} en ayunas", "azucar {v}", "BS {v}"]


@given(st.integers(20, 999), st.sampled_from(GLUCOSE_FORMS))
def test_any_plausible_glucose_round_trips(value: int, form: str) -> None:
    result = reading_parse(form.format(v=value))
    assert result.outcome == Outcome.READ
    assert result.readings[0].value == value


@given(st.decimals("20.0", "340.0", places=1), st.sampled_from(["{v} kg", "weight {v} kg", "peso {v} kilos"]))
def test_any_plausible_weight_in_kg_round_trips(value: Decimal, form: str) -> None:
    result = reading_parse(form.format(v=value).replace(".0 ", " "))
    assert result.outcome == Outcome.READ
    assert result.readings[0].value == value


@given(st.decimals("35.0", "42.0", places=1), st.sampled_from(["temp {v} C", "temperatura {v}", "{v}°C"]))
def test_any_plausible_celsius_temperature_round_trips(value: Decimal, form: str) -> None:
    result = reading_parse(form.format(v=value))
    assert result.outcome == Outcome.READ
    assert result.readings[0].value == value


@given(st.integers(50, 100), st.sampled_from(["o2 {v}%", "spo2 {v}", "oxigeno {v}%", "sat {v}"]))
def test_any_plausible_saturation_round_trips(value: int, form: str) -> None:
    result = reading_parse(form.format(v=value))
    assert result.outcome == Outcome.READ
    assert result.readings[0].value == value


@given(st.text(max_size=200))
def test_no_text_breaks_the_parser(text: str) -> None:
    result = reading_parse(text, expected=(BP, GF, WT, SYM))
    assert result.outcome in set(Outcome)
