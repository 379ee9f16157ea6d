"""The one safe renderer: fields only, no conversions or format specs, bounded output, never raising on render."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from careline.messaging.templating import (
    ALLOWED_FIELDS,
    VALUE_LIMIT,
    TemplateKind,
    TemplateProblem,
    template_problem,
    template_render,
    template_validate,
)

VALUES = {name: f"<{name}>" for name in ALLOWED_FIELDS}
BAD_TEMPLATES = [
    "Hi {first_name:{0}}",
    "Hi {first_name:>2000000}",
    "{first_name:>99999999999999999999}",
    "{first_name!r}",
    "{first_name!s:^30}",
    "{0}",
    "{}",
    "{patient.mrn}",
    "{first_name.__class__}",
    "{first_name[0]}",
    "{ first_name }",
    "Hi {first_name",
    "Hi first_name}",
]


@pytest.mark.parametrize("template", BAD_TEMPLATES)
def test_format_specs_conversions_and_odd_placeholders_are_refused(template):
    with pytest.raises(TemplateProblem):
        template_validate(template)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Hi {first_name:{0}}", "nothing may follow “:” or “!”"),
        ("Hi {first_name!r}", "nothing may follow “:” or “!”"),
        ("{patient.mrn}", "is not a field"),
        ("Hi {first_name", "braces are not balanced"),
    ],
)
def test_the_refusal_says_what_is_wrong(template, message):
    assert message in (template_problem(template) or "")


@pytest.mark.parametrize("template", BAD_TEMPLATES)
def test_a_stored_bad_template_renders_harmlessly_and_short(template):
    text = template_render(template, VALUES)
    assert len(text) <= len(template) + VALUE_LIMIT


def test_a_width_spec_does_not_inflate_the_text():
    assert template_render("Hi {first_name:>2000000}!", {"first_name": "Pat"}) == "Hi !"


def test_plain_fields_and_escaped_braces_render():
    text = template_render("Hi {first_name}, {{not a field}} at {location_name}.", VALUES)
    assert text == "Hi <first_name>, {not a field} at <location_name>."


def test_values_are_never_read_as_templates():
    assert (
        template_render("Hi {first_name}", {"first_name": "{location_name}:{0}"}) == "Hi {location_name}:{0}"
    )


def test_output_is_cut_at_the_message_length_limit():
    template = "{location_address}" * 50
    text = template_render(template, {"location_address": "x" * 10_000})
    assert len(text) == settings.CARELINE_MAX_MESSAGE_LENGTH


def test_a_template_longer_than_a_message_is_refused():
    with pytest.raises(TemplateProblem, match="longer than"):
        template_validate("x" * (settings.CARELINE_MAX_MESSAGE_LENGTH + 1))


def test_a_field_its_kind_cannot_fill_is_refused_with_the_kinds_fields():
    problem = template_problem("See you {date}", kind=TemplateKind.ANNOUNCEMENT) or ""
    assert "{date} cannot be filled in an announcement" in problem
    assert "{first_name}" in problem and "{visit_type}" not in problem
    assert template_render("See you {date}", {"date": "Mar 5"}, kind=TemplateKind.ANNOUNCEMENT) == "See you "


_pieces = st.sampled_from(
    [*list("{}:!.[]0>^ ab_é"), *ALLOWED_FIELDS, "{first_name}", "{{", "}}", "{visit_type}"]
)
_templates = st.lists(_pieces, max_size=120).map("".join)
_values = st.dictionaries(st.sampled_from([*list(ALLOWED_FIELDS), "other"]), st.text(max_size=2000))


@hypothesis_settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    template=_templates | st.text(max_size=400), values=_values, kind=st.sampled_from([None, *TemplateKind])
)
def test_fuzz_validate_raises_only_its_own_error_and_render_never_raises(template, values, kind):
    try:
        template_validate(template, kind=kind)
        valid = True
    except TemplateProblem:
        valid = False
    text = template_render(template, values, kind=kind)
    assert isinstance(text, str)
    assert len(text) <= settings.CARELINE_MAX_MESSAGE_LENGTH
    plain = not any("{" in v or "}" in v for v in values.values())
    if valid and plain and "{{" not in template and "}}" not in template:
        assert "{" not in text and "}" not in text  # every placeholder was filled (or left empty)


@hypothesis_settings(max_examples=200, deadline=None)
@given(size=st.integers(min_value=0, max_value=10**12))
def test_fuzz_any_width_renders_bounded(size):
    template = f"Hi {{first_name:>{size}}} and {{first_name:{{{size}}}}}"
    assert template_problem(template) is not None
    assert len(template_render(template, {"first_name": "Pat"})) <= settings.CARELINE_MAX_MESSAGE_LENGTH


def test_no_other_formatter_renders_texts_in_careline():
    """Every template goes through templating.py: no str.format, format_map or string.Formatter elsewhere."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        # The demo makes up sample inbound texts from fixed phrases; nothing there is a template.
        allowed = path.relative_to(root).as_posix() == "demo/texts.py"
        for pattern in (r"\.format\(", r"format_map\(", r"string\.Formatter", r"\bFormatter\(\)"):
            if re.search(pattern, source) and not allowed:
                offenders.append(f"{path.relative_to(root)}: {pattern}")
    assert offenders == []
