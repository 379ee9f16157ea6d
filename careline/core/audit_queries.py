"""Reads of the audit trail for the audit pages: the filter form's criteria applied to AuditEntry."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet
from django.utils import timezone

from careline.core.csv_export import csv_cell
from careline.core.models import ActorKind, AuditChannel, AuditEntry
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

    def describe(self) -> str:
        """The filters in use, for the EXPORT entry's detail (no patient data beyond an id or MRN)."""
        parts = [f"{name}={value}" for name, value in vars(self).items() if value not in (None, "")]
        return "; ".join(parts) or "no filters"


def _day_start(day: date) -> datetime:
    # Dates are days in the clinic's zone (TIME_ZONE), not in UTC.
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def patient_ids_for_reference(reference: str) -> list[int]:
    """Patient ids that REFERENCE (an id or an MRN) may mean; the audit trail keeps ids only."""
    reference = reference.strip()
    ids: list[int] = []
    if (patient_id := row_id(reference)) is not None:
        ids.append(patient_id)
    # Looked up by name so core does not import the patients app (core stays free of domain code).
    patient_model: Any = apps.get_model("patients", "Patient")
    ids.extend(
        patient_model.objects.filter(mrn__in={reference, reference.upper()}).values_list("pk", flat=True)
    )
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
    return AuditEntry.objects.filter(query).order_by("-at", "-id")


def _names(app_label: str, model: str, ids: set[int], field: str) -> dict[int, str]:
    # Looked up by name so core does not import the apps whose rows the trail names.
    if not ids:
        return {}
    rows: Any = apps.get_model(app_label, model).objects.filter(pk__in=ids).values_list("pk", field)
    return {int(pk): str(value) for pk, value in rows}


def audit_actor_descriptions(entries: Sequence[AuditEntry]) -> dict[int, str]:
    """How the audit page names the actor of each of ENTRIES, by entry id.

    Staff keep the label they were recorded with; an API client is its token and the token's owner ("API
    token 'EHR sync' of Dana Brooks"), a job is "System: reminder sweep", a caregiver is named for the
    patient they acted for. Tokens, users and caregivers removed since are named by their ids.
    """
    tokens = _names("accounts", "ApiToken", {e.api_token_id for e in entries if e.api_token_id}, "name")
    users = _names(
        "accounts",
        "User",
        {e.actor_id for e in entries if e.actor_id and e.actor_kind == ActorKind.API_CLIENT},
        "full_name",
    )
    caregivers = _names("patients", "Caregiver", {e.caregiver_id for e in entries if e.caregiver_id}, "name")
    described: dict[int, str] = {}
    for entry in entries:
        kind = entry.actor_kind
        if kind == ActorKind.API_CLIENT and entry.api_token_id is not None:
            token = tokens.get(entry.api_token_id)
            name = f"'{token}'" if token is not None else f"#{entry.api_token_id}"
            owner = (users.get(entry.actor_id) if entry.actor_id else None) or entry.actor_label
            who = f"API token {name} of {owner}"
        elif kind == ActorKind.CAREGIVER and entry.caregiver_id is not None:
            caregiver = caregivers.get(entry.caregiver_id, f"#{entry.caregiver_id}")
            who = f"Caregiver {caregiver} for patient #{entry.on_behalf_of_id}"
        elif kind == ActorKind.PATIENT:
            who = f"Patient #{entry.on_behalf_of_id} (themselves)"
        elif kind == ActorKind.SYSTEM and entry.channel in SYSTEM_CHANNELS and entry.actor_label:
            who = f"System: {entry.actor_label.replace('-', ' ')}"
        else:
            # Staff, and entries nobody signed in made (a failed sign-in names the address tried).
            who = entry.actor_label
        described[entry.pk] = who
    return described


# A system entry on these channels was made by a job; on the web it was an anonymous request.
SYSTEM_CHANNELS = (AuditChannel.SYSTEM, AuditChannel.COMMAND)

CSV_COLUMNS = (
    "at_utc", "actor_id", "actor", "action", "object_type", "object_id", "patient_id", "channel",
    "actor_kind", "api_token_id", "caregiver_id", "on_behalf_of_id", "ip_address", "user_agent", "detail",
)  # fmt: skip


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); a leading quote stops it.
def csv_safe(value: object) -> str:
    """VALUE as a CSV cell that a spreadsheet will show, never evaluate."""
    return str(csv_cell("" if value is None else str(value)))


def audit_csv_rows(entries: QuerySet[AuditEntry]) -> Iterator[list[str]]:
    """The header, then one row per entry, read in chunks so an export of millions stays in small memory."""
    yield list(CSV_COLUMNS)
    utc = timezone.get_fixed_timezone(0)
    for entry in entries.iterator(chunk_size=2000):
        yield [
            csv_safe(value)
            for value in (
                entry.at.astimezone(utc).isoformat(),
                entry.actor_id,
                entry.actor_label,
                entry.action,
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
