"""Message templates render only from an allow-list of fields, so no clinical detail can reach a text."""

from __future__ import annotations

import string
from collections.abc import Mapping

from careline.messaging.keywords import template_keyword_problem

ALLOWED_FIELDS: dict[str, str] = {
    "first_name": "The patient's preferred first name",
    "clinic_name": "The clinic's name",
    "location_name": "The location's name",
    "location_address": "The location's address",
    "location_phone": "The location's phone number",
    "date": "A date (for example of a visit)",
    "time": "A time (for example of a visit)",
    "link": "A link (it asks for sign-in or identity checks before showing anything)",
    # Empty unless the administrator marked the appointment type safe to text (no clinical detail).
    "visit_type": "The appointment type's name (empty unless the type is marked safe to text)",
}


class TemplateProblem(ValueError):
    """A template uses a field outside the allow-list, is malformed, or misuses an opt-out keyword."""


def template_fields(text: str) -> list[str]:
    """The placeholder names used in TEXT; TemplateProblem when the braces are malformed."""
    try:
        return [field for _, field, _, _ in string.Formatter().parse(text or "") if field is not None]
    except ValueError as exc:
        raise TemplateProblem(f"The template's braces are not balanced ({exc}).") from None


def template_validate(text: str) -> None:
    """Raise TemplateProblem with a clear message unless TEXT may be used as a message template."""
    fields = template_fields(text)
    unknown = sorted({field for field in fields if field not in ALLOWED_FIELDS})
    if unknown:
        allowed = ", ".join("{" + name + "}" for name in ALLOWED_FIELDS)
        raise TemplateProblem(
            f"Unknown field {', '.join('{' + f + '}' for f in unknown)}. Allowed: {allowed}."
        )
    problem = template_keyword_problem(text)
    if problem:
        raise TemplateProblem(problem)


def template_render(text: str, values: Mapping[str, str]) -> str:
    """TEXT with allowed fields filled from VALUES (missing ones left empty)."""
    template_validate(text)
    return string.Formatter().vformat(text, (), {name: str(values.get(name, "")) for name in ALLOWED_FIELDS})
