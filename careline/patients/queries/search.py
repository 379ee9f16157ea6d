"""The patient search box: one text field that understands an MRN, a phone, a birth date or a name prefix.

Every branch filters on an indexed column (mrn, phone number, date_of_birth, or a range on the folded name
keys) so a search costs the same few queries at 100,000 patients as at 10.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from careline.core.dates import EARLIEST_DATE, LATEST_DATE
from careline.core.phones import try_parse_phone
from careline.core.text import prefix_q, search_key
from careline.patients.models import Patient, PatientPhone
from careline.patients.queries import patients_visible_to

KIND_ALL = "all"
KIND_MRN = "mrn"
KIND_PHONE = "phone"
KIND_DOB = "dob"
KIND_NAME = "name"

MIN_GIVEN_NAME_PREFIX = 3  # a single word shorter than this matches last names only
MAX_NAME_WORDS = 4  # more words than a name has: ignore the rest rather than build a huge OR

_PHONE_CHARS = re.compile(r"^[\d\s().+\-/]+$")
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%m.%d.%Y")


@dataclass(frozen=True)
class SearchPlan:
    """What the search box text was understood as, and the filter that answers it."""

    kind: str
    filter: Q


def parse_birth_date(text: str, *, today: date | None = None) -> date | None:
    """A birth date written as 1980-04-12, 04/12/1980 or 4/12/80 (two-digit years are never in the future)."""
    cleaned = text.strip()
    if not re.fullmatch(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", cleaned):
        return None
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
        if fmt == "%m/%d/%y":
            # strptime puts 00-68 in the 2000s; a birth date cannot be in the future, so step back a century.
            current = today or timezone.localdate()
            if parsed > current:
                parsed = parsed.replace(year=parsed.year - 100)
        # Year 1 or 9999 is a typo, and dates that far out overflow wherever they meet arithmetic.
        return parsed if EARLIEST_DATE <= parsed <= LATEST_DATE else None
    return None


def _name_filter(words: list[str]) -> Q:
    """Name prefixes: one word matches any name; more words are split into first and last names both ways."""
    if len(words) == 1:
        word = words[0]
        if len(word) < MIN_GIVEN_NAME_PREFIX:
            # One or two letters, typed on the way to a surname: a last-name range the index walks in order,
            # instead of thousands of first-name matches to sort.
            return prefix_q("last_name_key", word)
        return (
            prefix_q("last_name_key", word)
            | prefix_q("first_name_key", word)
            | prefix_q("preferred_name_key", word)
        )
    whole = " ".join(words)
    match = prefix_q("last_name_key", whole)  # "de la cruz", "van der berg"
    for split in range(1, len(words)):
        head, tail = " ".join(words[:split]), " ".join(words[split:])
        for given, family in ((head, tail), (tail, head)):
            match |= prefix_q("last_name_key", family) & (
                prefix_q("first_name_key", given) | prefix_q("preferred_name_key", given)
            )
    return match


def search_plan(text: str) -> SearchPlan:
    """Decide what TEXT is: empty (everyone), a birth date, a phone (or an MRN made of digits), an MRN, a name."""
    cleaned = (text or "").strip()[:100]
    if not cleaned:
        return SearchPlan(KIND_ALL, Q())
    birth_date = parse_birth_date(cleaned)
    if birth_date is not None:
        return SearchPlan(KIND_DOB, Q(date_of_birth=birth_date))
    if "," in cleaned and not any(ch.isdigit() for ch in cleaned):
        family, _, given = cleaned.partition(",")
        family_key, given_key = search_key(family), search_key(given)
        if family_key and given_key:
            return SearchPlan(
                KIND_NAME,
                prefix_q("last_name_key", family_key)
                & (prefix_q("first_name_key", given_key) | prefix_q("preferred_name_key", given_key)),
            )
        cleaned = family_key or given_key
    if any(ch.isdigit() for ch in cleaned):
        mrn = Q(mrn=cleaned) | Q(mrn=cleaned.upper())
        digits = sum(ch.isdigit() for ch in cleaned)
        e164 = try_parse_phone(cleaned) if _PHONE_CHARS.match(cleaned) and digits >= 7 else None
        if e164 is not None:
            # A long all-digit MRN can look like a phone number: match either.
            # Owners first, in their own indexed query: an OR with a subquery makes PostgreSQL scan patients.
            owners = list(PatientPhone.objects.filter(number=e164).values_list("patient_id", flat=True)[:500])
            return SearchPlan(KIND_PHONE, mrn | Q(pk__in=owners))
        return SearchPlan(KIND_MRN, mrn)
    words = search_key(cleaned).split()[:MAX_NAME_WORDS]
    if not words:
        return SearchPlan(KIND_MRN, Q(mrn=cleaned))  # only punctuation: nothing will match, cheaply
    return SearchPlan(KIND_NAME, _name_filter(words))


def patient_search_queryset(user: Any, text: str) -> tuple[str, QuerySet[Patient]]:
    """The kind of query TEXT is and the matching patients USER may see, by last name, ready for a list page."""
    plan = search_plan(text)
    queryset = (
        patients_visible_to(user)
        .filter(plan.filter)
        .select_related("primary_location")
        .prefetch_related(Prefetch("phones", queryset=PatientPhone.objects.order_by("-is_primary", "id")))
        .order_by("last_name_key", "first_name_key", "id")
    )
    return plan.kind, queryset


def patient_search(user: Any, text: str, *, limit: int = 50) -> list[Patient]:
    """Up to LIMIT patients USER may see that match TEXT (MRN, phone, birth date or name), by last name."""
    _, queryset = patient_search_queryset(user, text)
    return list(queryset[:limit])


# The audit filter lists what a patient did or had done by id; a reference matching more is too vague.
REFERENCE_MATCHES = 500


def patient_ids_for_reference(text: str) -> list[int]:
    """Ids of every patient (any location) TEXT may mean: an MRN, a phone, a birth date or a name.

    The audit trail's patient filter (registered with core); its readers see every location's trail.
    """
    plan = search_plan(text)
    if plan.kind == KIND_ALL:
        return []
    return list(Patient.objects.filter(plan.filter).values_list("pk", flat=True)[:REFERENCE_MATCHES])
