"""The one safe renderer for message templates: allow-listed fields only, no format specs, bounded output.

Every template that staff edit or that Careline sends by itself (reminders, notices, announcements, saved
replies, after-hours and keyword answers) goes through `template_validate` when it is saved and
`template_render` when it is used. The renderer never calls `str.format`: a template is plain text with
`{field}` placeholders (and `{{`/`}}` for literal braces). Anything else between braces (`{first_name:>99}`,
`{first_name!r}`, `{0}`, `{patient.mrn}`) is refused on save and renders as nothing if it was stored before,
so no template can raise, reach an attribute, or grow a text beyond the message length limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from functools import lru_cache

from django.conf import settings

from careline.messaging.keywords import template_keyword_problem

ALLOWED_FIELDS: dict[str, str] = {
    "first_name": "The patient's preferred first name",
    "clinic_name": "The clinic's name (CARELINE_CLINIC_NAME, else the location's name)",
    "location_name": "The location's name",
    "location_address": "The location's address",
    "location_phone": "The location's phone number",
    "date": "The visit's date",
    "time": "The visit's time",
    "link": "A link (it asks for sign-in or identity checks before showing anything)",
    # No clinical detail: the name only when an administrator marked the type safe to text.
    "visit_type": "The appointment type's name when it is marked safe to text, otherwise “visit” (“cita”)",
    # Billing texts only (a receipt, a statement when an administrator allows the amount): money, never what for.
    "amount": "An amount of money, formatted (billing texts only)",
}

_LOCATION_FIELDS = ("clinic_name", "location_name", "location_address", "location_phone", "link")
_PATIENT_FIELDS = ("first_name", *_LOCATION_FIELDS)
_VISIT_FIELDS = tuple(name for name in ALLOWED_FIELDS if name != "amount")
# Fields only some kinds of text fill: an amount (billing texts; a statement's only when an administrator allows
# it). Templates of no particular kind (None) never offer them.
_KIND_ONLY_FIELDS = ("amount",)
_BILLING_FIELDS = (*_PATIENT_FIELDS, "amount")


class TemplateKind(Enum):
    """Where a template is used, which decides the fields it can fill (a visit's date needs a visit)."""

    REMINDER = ("a reminder", _VISIT_FIELDS)
    NOTICE = ("a visit notice", _VISIT_FIELDS)
    ANNOUNCEMENT = ("an announcement", _PATIENT_FIELDS)
    SAVED_REPLY = ("a saved reply", _PATIENT_FIELDS)
    # The number may match no patient, so there is no first name to fill.
    AFTER_HOURS = ("an after-hours reply", _LOCATION_FIELDS)
    KEYWORD_ANSWER = ("a keyword answer", _LOCATION_FIELDS)
    STATEMENT = ("a statement text", (*_PATIENT_FIELDS, "amount"))
    BILLING = ("a billing text", _BILLING_FIELDS)
    # A notice to staff (an on-call page): never a patient's field.
    STAFF_PAGE = ("an on-call page", ("clinic_name", "location_name", "link"))

    def __init__(self, label: str, fields: tuple[str, ...]) -> None:
        self.label = label
        self.fields = fields


# Longest value one field may put into a text (addresses are the longest real ones).
VALUE_LIMIT = 500
_PLACEHOLDER_REACH = 200
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*", re.IGNORECASE)


class TemplateProblem(ValueError):
    """A template uses a field outside the allow-list, is malformed, or misuses an opt-out keyword."""


def _shown(piece: str) -> str:
    return piece if len(piece) <= 40 else piece[:37] + "…"


def _closing_brace(text: str, start: int) -> int:
    """Index of the "}" matching the "{" at START (nested braces count) within a field's reach, or -1."""
    depth = 0
    # A placeholder is short; looking further would make a text full of "{" slow to check.
    for index in range(start, min(len(text), start + _PLACEHOLDER_REACH)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


@lru_cache(maxsize=512)
def _parse(text: str) -> tuple[tuple[tuple[str, bool], ...], tuple[str, ...]]:
    """(pieces, problems): each piece is (literal text, False) or (field name, True); bad fields become ''."""
    pieces: list[tuple[str, bool]] = []
    problems: list[str] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "}":
            if text.startswith("}}", i):
                literal.append("}")
                i += 2
                continue
            problems.append(
                "The braces are not balanced: a “}” has no “{” before it (write }} for a literal brace)."
            )
            literal.append("}")
            i += 1
            continue
        if ch != "{":
            stop = min((p for p in (text.find("{", i), text.find("}", i)) if p != -1), default=n)
            literal.append(text[i:stop])
            i = stop
            continue
        if text.startswith("{{", i):
            literal.append("{")
            i += 2
            continue
        end = _closing_brace(text, i)
        if end == -1:
            problems.append(
                "The braces are not balanced: a “{” is never closed (write {{ for a literal brace)."
            )
            literal.append("{")
            i += 1
            continue
        inner = text[i + 1 : end]
        i = end + 1
        if _IDENTIFIER.fullmatch(inner):
            if literal:
                pieces.append(("".join(literal), False))
                literal = []
            pieces.append((inner, True))
        elif ":" in inner or "!" in inner:
            problems.append(
                f"“{_shown('{' + inner + '}')}” formats a field: write fields plainly, like {{first_name}}; "
                "nothing may follow “:” or “!”."
            )
        else:
            problems.append(f"“{_shown('{' + inner + '}')}” is not a field; fields look like {{first_name}}.")
    if literal:
        pieces.append(("".join(literal), False))
    return tuple(pieces), tuple(problems)


def fields_for(kind: TemplateKind | None) -> tuple[str, ...]:
    """The fields a template of KIND may use (every allow-listed field when KIND is None)."""
    if kind is not None:
        return kind.fields
    return tuple(name for name in ALLOWED_FIELDS if name not in _KIND_ONLY_FIELDS)


def fields_help(kind: TemplateKind | None) -> str:
    """'Fields you may use: {first_name}, …' for a form's help text."""
    return "Fields you may use: " + ", ".join("{" + name + "}" for name in fields_for(kind))


def template_fields(text: str) -> list[str]:
    """The placeholder names used in TEXT; TemplateProblem when a placeholder is malformed."""
    pieces, problems = _parse(text or "")
    if problems:
        raise TemplateProblem(problems[0])
    return [value for value, is_field in pieces if is_field]


def template_validate(text: str, *, kind: TemplateKind | None = None) -> None:
    """Raise TemplateProblem with a clear message unless TEXT may be used as a template of KIND."""
    text = text or ""
    limit = settings.CARELINE_MAX_MESSAGE_LENGTH
    if len(text) > limit:
        raise TemplateProblem(f"The text is longer than {limit} characters.")
    used = template_fields(text)
    known = ALLOWED_FIELDS if kind is not None else fields_for(None)
    unknown = sorted({field for field in used if field not in known})
    if unknown:
        raise TemplateProblem(
            f"Unknown field {', '.join('{' + f + '}' for f in unknown)}. {fields_help(kind)}."
        )
    allowed = fields_for(kind)
    unavailable = sorted({field for field in used if field not in allowed}, key=list(ALLOWED_FIELDS).index)
    if unavailable and kind is not None:
        raise TemplateProblem(
            f"{', '.join('{' + f + '}' for f in unavailable)} cannot be filled in {kind.label}. "
            f"{fields_help(kind)}."
        )
    problem = template_keyword_problem(text)
    if problem:
        raise TemplateProblem(problem)


def template_problem(text: str, *, kind: TemplateKind | None = None) -> str | None:
    """Why TEXT may not be used as a template of KIND, or None (for pages listing stored templates)."""
    try:
        template_validate(text, kind=kind)
    except TemplateProblem as problem:
        return str(problem)
    return None


def template_render(text: str, values: Mapping[str, object], *, kind: TemplateKind | None = None) -> str:
    """TEXT with its fields filled from VALUES; never raises.

    Fields KIND does not offer, unknown fields and malformed placeholders (a template stored before it was
    checked) render as nothing; each value is cut at VALUE_LIMIT and the text at the message length limit.
    Senders that must not send such a text check `template_validate` first.
    """
    limit = settings.CARELINE_MAX_MESSAGE_LENGTH
    allowed = fields_for(kind)
    pieces, _ = _parse((text or "")[: limit * 2])
    out: list[str] = []
    size = 0
    for value, is_field in pieces:
        if is_field:
            value = str(values.get(value, "") or "")[:VALUE_LIMIT] if value in allowed else ""
        out.append(value)
        size += len(value)
        if size >= limit:
            break
    return "".join(out)[:limit]
