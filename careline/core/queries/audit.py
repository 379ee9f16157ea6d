"""Reads of the audit trail for the audit pages: the filter form's criteria applied to AuditEntry."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from careline.core.csv_export import csv_cell
from careline.core.models import AuditChannel, AuditEntry
from careline.core.params import row_id


@dataclass(frozen=True)
class AuditFilters:
    """What to look for; None or "" means any."""

    date_from: date | None = None
    date_to: date | None = None
    actor_id: int | None = None
    action: str = ""
    patient: str = ""
    object_type: str = ""
    channel: str = ""
    actor_kind: str = ""

    def describe(self) -> str:
        """The filters in use, for the trail's own entries (the patient as ids: a typed name is patient data)."""
        parts = []
        for name, value in vars(self).items():
            if value in (None, ""):
                continue
            if name == "patient":
                ids = sorted(set(patient_ids_for_reference(str(value))))
                shown = ",".join(str(i) for i in ids[:DESCRIBED_PATIENT_IDS]) or "none"
                more = (
                    f" and {len(ids) - DESCRIBED_PATIENT_IDS} more"
                    if len(ids) > DESCRIBED_PATIENT_IDS
                    else ""
                )
                parts.append(f"patient ids={shown}{more}")
            else:
                parts.append(f"{name}={value}")
        return "; ".join(parts) or "no filters"


# How many of the patients a patient filter matched the trail's own entry lists by id.
DESCRIBED_PATIENT_IDS = 20


def _day_start(day: date) -> datetime:
    # Dates are days in the clinic's zone (TIME_ZONE), not in UTC.
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


# What else a patient reference may be (an MRN, a name) is the patients app's knowledge: it registers a lookup in
# its AppConfig.ready(), so core neither imports nor looks up an app above it.
PatientReferenceLookup = Callable[[str], Iterable[int]]
_patient_reference_lookups: list[PatientReferenceLookup] = []


def register_patient_reference_lookup(lookup: PatientReferenceLookup) -> None:
    """Let LOOKUP turn a reference typed in the audit filter (an MRN, a name) into patient ids; once each."""
    if lookup not in _patient_reference_lookups:
        _patient_reference_lookups.append(lookup)


def patient_ids_for_reference(reference: str) -> list[int]:
    """Patient ids that REFERENCE (an id, or what a registered lookup knows: an MRN, a name) may mean."""
    reference = reference.strip()
    ids: list[int] = []
    if (patient_id := row_id(reference)) is not None:
        ids.append(patient_id)
    for lookup in _patient_reference_lookups:
        ids.extend(lookup(reference))
    return ids


def audit_entries(filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Entries matching FILTERS, newest first."""
    query = Q()
    if filters.date_from is not None:
        query &= Q(at__gte=_day_start(filters.date_from))
    if filters.date_to is not None:
        query &= Q(at__lt=_day_start(filters.date_to + timedelta(days=1)))
    if filters.actor_id is not None:
        query &= Q(actor_id=filters.actor_id)
    if filters.action:
        query &= Q(action=filters.action)
    if filters.patient:
        query &= Q(patient_id__in=patient_ids_for_reference(filters.patient))
    if filters.object_type:
        query &= Q(object_type=filters.object_type)
    if filters.channel:
        query &= Q(channel=filters.channel)
    if filters.actor_kind:
        query &= Q(actor_kind=filters.actor_kind)
    return AuditEntry.objects.filter(query).order_by("-at", "-id")


NameLookup = Callable[[set[int]], dict[int, str]]
# What the trail names by id (an API token, a staff member, a caregiver): the apps that own those rows
# register a lookup (in their AppConfig.ready), so core never imports them.
_name_lookups: dict[str, NameLookup] = {}


def register_audit_name_lookup(kind: str, lookup: NameLookup) -> None:
    """Let LOOKUP name rows of KIND ("api_token", "user", "caregiver", "patient") on the audit trail page."""
    _name_lookups[kind] = lookup


def names_for(kind: str, ids: set[int]) -> dict[int, str]:
    """{id: name} of the rows of KIND among IDS, from the lookup registered for KIND (one query)."""
    lookup = _name_lookups.get(kind)
    if not ids or lookup is None:
        return {}
    return lookup(ids)


# A system entry on these channels was made by a job; on the web it was an anonymous request.
SYSTEM_CHANNELS = (AuditChannel.SYSTEM, AuditChannel.COMMAND)

CSV_COLUMNS = (
    "at_utc", "actor_id", "actor", "action", "summary", "object_type", "object_id", "patient_id", "channel",
    "actor_kind", "api_token_id", "caregiver_id", "on_behalf_of_id", "ip_address", "user_agent", "detail",
)  # fmt: skip


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); a leading quote stops it.
def csv_safe(value: object) -> str:
    """VALUE as a CSV cell that a spreadsheet will show, never evaluate."""
    return str(csv_cell("" if value is None else str(value)))


# Rows an export reads and names at a time: a few queries per batch, small memory for millions of entries.
CSV_BATCH = 2000
Summaries = Callable[[Sequence[AuditEntry]], Mapping[int, str]]


def _batches(entries: Iterator[AuditEntry], size: int) -> Iterator[list[AuditEntry]]:
    batch: list[AuditEntry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def audit_csv_rows(entries: QuerySet[AuditEntry], summaries: Summaries | None = None) -> Iterator[list[str]]:
    """The header, then one row per entry, read in chunks so an export of millions stays in small memory.

    SUMMARIES gives each entry of a batch its plain-language sentence (the page's), by entry id.
    """
    yield list(CSV_COLUMNS)
    utc = timezone.get_fixed_timezone(0)
    for batch in _batches(entries.iterator(chunk_size=CSV_BATCH), CSV_BATCH):
        said = summaries(batch) if summaries is not None else {}
        for entry in batch:
            yield [
                csv_safe(value)
                for value in (
                    entry.at.astimezone(utc).isoformat(),
                    entry.actor_id,
                    entry.actor_label,
                    entry.action,
                    said.get(entry.pk, ""),
                    entry.object_type,
                    entry.object_id,
                    entry.patient_id,
                    entry.channel,
                    entry.actor_kind,
                    entry.api_token_id,
                    entry.caregiver_id,
                    entry.on_behalf_of_id,
                    entry.ip_address,
                    entry.user_agent,
                    entry.detail,
                )
            ]
