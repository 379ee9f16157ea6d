"""The audit trail in plain language: "Dana Brooks viewed Humberto Sauceda's conversation", with links.

Core knows no domain: each app registers the kinds of object it writes entries about (`register_audit_object`
in its AppConfig.ready: a noun, what a list of them is called, a link) and names its rows by id
(`register_audit_name_lookup` in `queries/audit.py`). A page of entries costs one query per kind of name
(staff, patients, caregivers, API tokens), whatever its length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from careline.core.models import ActorKind, AuditAction, AuditEntry
from careline.core.params import row_id
from careline.core.queries.audit import SYSTEM_CHANNELS, names_for

# (object id, patient id) -> the page of that object, or "" when it has none.
ObjectUrl = Callable[[int, int | None], str]

PATIENT_TYPE = "patients.patient"
# Kinds of names the trail asks for: who acts (staff, API tokens, caregivers) and whom it is about.
USER, API_TOKEN, CAREGIVER, PATIENT = "user", "api_token", "caregiver", "patient"


@dataclass(frozen=True)
class AuditObjectKind:
    """How the trail speaks of one object type: "conversation", a list of them "the inbox", and its page."""

    noun: str
    collection: str
    url: ObjectUrl | None = None
    names: str = ""  # a name lookup kind that names these rows by id ("user" for staff accounts)


_object_kinds: dict[str, AuditObjectKind] = {}


def register_audit_object(
    object_type: str, *, noun: str, collection: str = "", url: ObjectUrl | None = None, names: str = ""
) -> None:
    """Let the trail call OBJECT_TYPE entries' object NOUN (many of them COLLECTION) and link it with URL."""
    _object_kinds[object_type] = AuditObjectKind(noun, collection or f"{noun}s", url, names)


def _kind_of(object_type: str) -> AuditObjectKind:
    """The registered kind, or one made from the type's name ("scheduling.calendar" -> "calendar")."""
    known = _object_kinds.get(object_type)
    if known is not None:
        return known
    noun = object_type.rsplit(".", 1)[-1].replace("_", " ") or "record"
    return AuditObjectKind(noun, f"{noun}s")


@dataclass(frozen=True)
class Part:
    """A piece of an entry's sentence: text, a link when URL is set, in bold when it names someone.

    Parts are shown with a space between them, except before one that ATTACHES (a possessive "’s").
    """

    text: str
    url: str = ""
    strong: bool = False
    attaches: bool = False


VERBS: dict[str, str] = {
    AuditAction.VIEW: "viewed",
    AuditAction.SEARCH: "searched",
    AuditAction.CREATE: "created",
    AuditAction.UPDATE: "changed",
    AuditAction.EXPORT: "exported",
    AuditAction.IMPORT: "imported",
    AuditAction.LOGIN: "signed in",
    AuditAction.LOGIN_FAILED: "failed to sign in",
    AuditAction.LOGOUT: "signed out",
    AuditAction.LOCKED_OUT: "was locked out of signing in",
    AuditAction.MFA: "changed two-factor sign-in",
    AuditAction.ADMIN: "changed",
}
# Actions about the actor's own account: the sentence ends with the verb.
ACCOUNT_ACTIONS: set[str] = {
    AuditAction.LOGIN,
    AuditAction.LOGIN_FAILED,
    AuditAction.LOGOUT,
    AuditAction.LOCKED_OUT,
    AuditAction.MFA,
}
# What was done to a patient's record itself: "registered Humberto Sauceda", "viewed Humberto Sauceda's record".
PATIENT_RECORD_VERBS: dict[str, str] = {AuditAction.CREATE: "registered", AuditAction.IMPORT: "imported"}


def _link(kind: AuditObjectKind, object_id: int | None, patient_id: int | None) -> str:
    if kind.url is None or object_id is None:
        return ""
    try:
        return kind.url(object_id, patient_id) or ""
    except NoReverseMatch:
        return ""


class _Names:
    """Every name a page of entries needs, fetched once per kind."""

    def __init__(self, entries: Sequence[AuditEntry]) -> None:
        wanted: dict[str, set[int]] = {USER: set(), API_TOKEN: set(), CAREGIVER: set(), PATIENT: set()}
        for entry in entries:
            if entry.actor_id:
                wanted[USER].add(entry.actor_id)
            if entry.api_token_id:
                wanted[API_TOKEN].add(entry.api_token_id)
            if entry.caregiver_id:
                wanted[CAREGIVER].add(entry.caregiver_id)
            for patient_id in (entry.patient_id, entry.on_behalf_of_id):
                if patient_id:
                    wanted[PATIENT].add(patient_id)
            kind = _kind_of(entry.object_type)
            object_id = row_id(entry.object_id)
            if kind.names and object_id is not None:
                wanted.setdefault(kind.names, set()).add(object_id)
        self.by_kind = {kind: names_for(kind, ids) for kind, ids in wanted.items()}

    def get(self, kind: str, row: int | None) -> str | None:
        return self.by_kind.get(kind, {}).get(row) if row is not None else None

    def patient(self, patient_id: int) -> Part:
        """The patient's name linked to their page (their number when the row is gone)."""
        name = self.get(PATIENT, patient_id) or f"patient #{patient_id}"
        return Part(name, _link(_kind_of(PATIENT_TYPE), patient_id, patient_id), strong=True)


def _actor(entry: AuditEntry, names: _Names) -> list[Part]:
    """Who acted, by kind: a staff member's name, an API token and its owner, a patient, a caregiver, a job."""
    kind = entry.actor_kind
    if kind == ActorKind.API_CLIENT:
        token = names.get(API_TOKEN, entry.api_token_id)
        owner = names.get(USER, entry.actor_id) or entry.actor_label or "a deleted account"
        token_name = f"“{token}”" if token is not None else f"#{entry.api_token_id}"
        return [Part("API client"), Part(token_name, strong=True), Part(f"(token of {owner})")]
    if kind == ActorKind.CAREGIVER and entry.on_behalf_of_id is not None:
        caregiver = names.get(CAREGIVER, entry.caregiver_id) or f"#{entry.caregiver_id}"
        return [
            Part("Caregiver"),
            Part(caregiver, strong=True),
            Part("for"),
            names.patient(entry.on_behalf_of_id),
        ]
    if kind == ActorKind.PATIENT and entry.on_behalf_of_id is not None:
        return [Part("Patient"), names.patient(entry.on_behalf_of_id)]
    if kind == ActorKind.SYSTEM:
        if entry.channel in SYSTEM_CHANNELS and entry.actor_label:
            return [Part("System job"), Part(f"“{entry.actor_label.replace('-', ' ')}”", strong=True)]
        # A request nobody was signed in for (a failed sign-in names the email tried), or a provider's webhook.
        return (
            [Part(entry.actor_label, strong=True)] if entry.actor_label else [Part("Someone not signed in")]
        )
    name = names.get(USER, entry.actor_id) or entry.actor_label or "A deleted account"
    # The name leads to everything that person did on the trail.
    everything = f"{reverse('audit:list')}?{urlencode({'actor': entry.actor_id})}" if entry.actor_id else ""
    return [Part(name, everything, strong=True)]


def _object(entry: AuditEntry, names: _Names) -> list[Part]:
    """What the action was about: a patient's thing, a named row, a numbered row or a whole list."""
    if not entry.object_type and entry.patient_id is None:
        return []
    kind = _kind_of(entry.object_type)
    object_id = row_id(entry.object_id)
    url = _link(kind, object_id, entry.patient_id)
    if entry.patient_id is not None:
        patient = names.patient(entry.patient_id)
        if entry.object_type in (PATIENT_TYPE, ""):
            return (
                [patient]
                if entry.action in PATIENT_RECORD_VERBS
                else [patient, Part("’s", attaches=True), Part("record")]
            )
        return [patient, Part("’s", attaches=True), Part(kind.noun, url)]
    if object_id is None:
        return [Part(kind.collection, url)]
    name = names.get(kind.names, object_id) if kind.names else None
    label = f"{kind.noun} {name}" if name else f"{kind.noun} #{object_id}"
    return [Part(label, url)]


def audit_line(entry: AuditEntry, names: _Names) -> list[Part]:
    """ENTRY as a sentence of parts."""
    parts = _actor(entry, names)
    patient_record = entry.object_type in (PATIENT_TYPE, "") and entry.patient_id is not None
    verb = PATIENT_RECORD_VERBS.get(entry.action) if patient_record else None
    parts.append(Part(verb or VERBS.get(entry.action, entry.action)))
    if entry.action not in ACCOUNT_ACTIONS:
        parts.extend(_object(entry, names))
    return parts


def audit_lines(entries: Sequence[AuditEntry]) -> dict[int, list[Part]]:
    """Each of ENTRIES as a plain-language sentence with links, by entry id, in a fixed number of queries."""
    names = _Names(entries)
    return {entry.pk: audit_line(entry, names) for entry in entries}


def audit_line_text(parts: Sequence[Part]) -> str:
    """PARTS as plain text, spaced as the page shows them."""
    return "".join(
        part.text if index == 0 or part.attaches else f" {part.text}" for index, part in enumerate(parts)
    )


def audit_summaries(entries: Sequence[AuditEntry]) -> dict[int, str]:
    """Each of ENTRIES as a plain-text sentence (the CSV export's summary column), by entry id."""
    return {pk: audit_line_text(parts) for pk, parts in audit_lines(entries).items()}
