"""Writes to the patient registry: patients, phones, contact preferences, the consent ledger, caregivers.

Every function validates before it writes (a ValidationError leaves the database untouched), writes the
rows of one change in one transaction, and appends one audit entry saying which fields changed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.events import publish
from careline.core.phones import parse_phone, phone_kind
from careline.core.text import search_key
from careline.locations.models import Location
from careline.patients.events import ConsentChanged, PatientCreated, PatientUpdated
from careline.patients.models import (
    GENERAL_CONSENT_KINDS,
    PURPOSE_CONSENT_KINDS,
    Caregiver,
    ConsentEvent,
    ConsentKind,
    ConsentMethod,
    ContactPreference,
    Language,
    Patient,
    PatientPhone,
    PhoneKind,
    Purpose,
    Sex,
)
from careline.patients.models import Channel as ContactChannel

CONSENT_GIVEN = "given"
CONSENT_REVOKED = "revoked"
CONSENT_UNKNOWN = "unknown"
_PROVIDER_E164 = re.compile(r"\+[1-9]\d{6,14}")

# Fields staff may change through `patient_update`; keys and timestamps are maintained by the model.
PATIENT_EDITABLE_FIELDS = (
    "mrn",
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "pronouns",
    "language",
    "time_zone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "email",
    "primary_location",
    "primary_clinician",
    "status",
    "confidential_communications",
)

CAREGIVER_EDITABLE_FIELDS = (
    "name",
    "relationship",
    "phone",
    "email",
    "is_proxy",
    "receives_appointments",
    "receives_billing",
    "receives_care",
    "receives_general",
    "is_active",
)


def _new_mrn() -> str:
    """A fresh clinic-generated MRN for patients registered without one from another system."""
    for _ in range(20):
        candidate = f"CL{secrets.randbelow(10**8):08d}"
        if not Patient.objects.filter(mrn=candidate).exists():
            return candidate
    raise RuntimeError("could not find a free MRN")  # pragma: no cover - 10^8 space


def _parse_phones(numbers: Iterable[str]) -> list[str]:
    """E.164 forms of NUMBERS, without blanks or repeats, in order; ValidationError on the first bad one."""
    parsed: list[str] = []
    for raw in numbers:
        if not (raw or "").strip():
            continue
        e164 = parse_phone(raw)
        if e164 not in parsed:
            parsed.append(e164)
    return parsed


def patient_create(
    *,
    actor: Actor,
    legal_first_name: str,
    legal_last_name: str,
    date_of_birth: date,
    primary_location: Location,
    mrn: str = "",
    preferred_name: str = "",
    sex: str = Sex.UNKNOWN,
    pronouns: str = "",
    language: str = Language.ENGLISH,
    time_zone: str = "",
    email: str = "",
    address_line1: str = "",
    address_line2: str = "",
    city: str = "",
    region: str = "",
    postal_code: str = "",
    country: str = "US",
    primary_clinician: Any = None,
    confidential_communications: bool = False,
    phones: Sequence[str] = (),
) -> Patient:
    """Register a patient (and their phones, the first one primary); ValidationError changes nothing."""
    patient = Patient(
        mrn=(mrn or "").strip() or _new_mrn(),
        legal_first_name=legal_first_name.strip(),
        legal_last_name=legal_last_name.strip(),
        preferred_name=preferred_name.strip(),
        date_of_birth=date_of_birth,
        sex=sex,
        pronouns=pronouns,
        language=language,
        time_zone=time_zone,
        email=email,
        address_line1=address_line1,
        address_line2=address_line2,
        city=city,
        region=region,
        postal_code=postal_code,
        country=country,
        primary_location=primary_location,
        primary_clinician=primary_clinician,
        confidential_communications=confidential_communications,
    )
    patient.refresh_search_keys()
    patient.full_clean()
    numbers = _parse_phones(phones)
    with transaction.atomic():
        patient.save()
        for index, number in enumerate(numbers):
            PatientPhone.objects.create(
                patient=patient, number=number, kind=phone_kind(number), is_primary=index == 0
            )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            obj=patient,
            patient_id=patient.pk,
            detail=f"registered; phones: {len(numbers)}",
        )
        publish(
            PatientCreated(
                patient_id=patient.pk, primary_location_id=patient.primary_location_id, source="registry"
            )
        )
    return patient


def patient_update(*, patient: Patient, actor: Actor, changes: Mapping[str, Any]) -> list[str]:
    """Apply CHANGES to PATIENT's demographics; returns (and audits) the names of the fields that changed."""
    unknown = set(changes) - set(PATIENT_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        changed = _apply_changes(
            patient,
            changes,
            clean=patient.full_clean,
            actor=actor,
            patient_id=patient.pk,
            label="fields",
        )
        if changed:
            publish(PatientUpdated(patient_id=patient.pk, fields=tuple(changed)))
    return changed


def _apply_changes(
    instance: Any,
    values: Mapping[str, Any],
    *,
    clean: Callable[[], None],
    actor: Actor,
    patient_id: int,
    label: str,
) -> list[str]:
    """Set the VALUES that differ on INSTANCE, validate, save and audit them; the names of those fields."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if not changed:
        return []
    previous = {name: getattr(instance, name) for name in changed}
    for name in changed:
        setattr(instance, name, values[name])
    try:
        clean()
    except ValidationError:
        for name, value in previous.items():  # leave the caller's instance as it was
            setattr(instance, name, value)
        raise
    with transaction.atomic():
        instance.save()
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            obj=instance,
            patient_id=patient_id,
            detail=f"{label}: {', '.join(changed)}",
        )
    return changed


def patient_phone_add(
    *,
    patient: Patient,
    number: str,
    actor: Actor,
    kind: str | None = None,
    is_primary: bool = False,
    label: str = "",
) -> PatientPhone:
    """Add a number (any usual format) to PATIENT; the first number, or one marked primary, becomes primary."""
    e164 = parse_phone(number)
    if kind is not None and kind not in PhoneKind.values:
        raise ValidationError(f"“{kind}” is not a kind of phone.")
    with transaction.atomic():
        existing = list(PatientPhone.objects.select_for_update().filter(patient=patient))
        if any(phone.number == e164 for phone in existing):
            raise ValidationError("This number is already on file for the patient.", code="duplicate")
        make_primary = is_primary or not existing
        if make_primary:
            PatientPhone.objects.filter(patient=patient, is_primary=True).update(is_primary=False)
        phone = PatientPhone.objects.create(
            patient=patient,
            number=e164,
            kind=kind or phone_kind(e164),
            is_primary=make_primary,
            label=label.strip()[:40],
        )
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            obj=phone,
            patient_id=patient.pk,
            detail="phone added" + (" (primary)" if make_primary else ""),
        )
        publish(PatientUpdated(patient_id=patient.pk, fields=("phones",)))
    return phone


def patient_phone_set_primary(*, phone: PatientPhone, actor: Actor) -> None:
    """Make PHONE its patient's primary number (the only one)."""
    with transaction.atomic():
        PatientPhone.objects.filter(patient_id=phone.patient_id, is_primary=True).exclude(pk=phone.pk).update(
            is_primary=False
        )
        PatientPhone.objects.filter(pk=phone.pk).update(is_primary=True)
        phone.is_primary = True
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            obj=phone,
            patient_id=phone.patient_id,
            detail="primary phone changed",
        )
        publish(PatientUpdated(patient_id=phone.patient_id, fields=("phones",)))


def patient_phone_remove(*, phone: PatientPhone, actor: Actor) -> None:
    """Remove PHONE; when it was primary, the oldest remaining number becomes primary. The consent ledger stays."""
    patient_id = phone.patient_id
    with transaction.atomic():
        was_primary = PatientPhone.objects.filter(pk=phone.pk, is_primary=True).exists()
        object_id = phone.pk
        phone.delete()
        if was_primary:
            successor = PatientPhone.objects.filter(patient_id=patient_id).order_by("id").first()
            if successor is not None:
                PatientPhone.objects.filter(pk=successor.pk).update(is_primary=True)
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            object_type="patients.patientphone",
            object_id=object_id,
            patient_id=patient_id,
            detail="phone removed",
        )
        publish(PatientUpdated(patient_id=patient_id, fields=("phones",)))


def contact_preference_set(
    *,
    patient: Patient,
    purpose: str,
    channel: str,
    actor: Actor,
) -> ContactPreference:
    """Record how PATIENT wants to hear about PURPOSE, with who recorded it and when."""
    if purpose not in Purpose.values:
        raise ValidationError(f"“{purpose}” is not a purpose.")
    if channel not in ContactChannel.values:
        raise ValidationError(f"“{channel}” is not a way of contacting a patient.")
    with transaction.atomic():
        preference, _ = ContactPreference.objects.update_or_create(
            patient=patient,
            purpose=purpose,
            defaults={"channel": channel, "recorded_at": timezone.now(), "recorded_by": actor.user},
        )
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            obj=preference,
            patient_id=patient.pk,
            detail=f"contact preference: {purpose}",
        )
        publish(PatientUpdated(patient_id=patient.pk, fields=("contact_preferences",)))
    return preference


def consent_record(
    *,
    phone_number: str,
    kind: str,
    method: str,
    patient: Patient | None,
    actor: Actor,
    note: str = "",
    occurred_at: datetime | None = None,
) -> ConsentEvent:
    """Append a consent (given/revoked) entry to the ledger of PHONE_NUMBER (any usual format).

    ACTOR recorded it: the entry names its staff user (none for the system or a patient's own keyword).
    """
    e164 = _ledger_number(phone_number, method)
    if kind not in ConsentKind.values:
        raise ValidationError(f"“{kind}” is not a kind of consent entry.")
    if method not in ConsentMethod.values:
        raise ValidationError(f"“{method}” is not a way consent is recorded.")
    with transaction.atomic():
        event = ConsentEvent.objects.create(
            phone_number=e164,
            kind=kind,
            method=method,
            patient=patient,
            recorded_by=actor.user,
            occurred_at=occurred_at or timezone.now(),
            note=(note or "").strip()[:200],
        )
        if patient is not None:
            audit_record(
                action=AuditAction.UPDATE,
                actor=actor,
                obj=event,
                patient_id=patient.pk,
                detail=f"text consent {kind} ({method})",
            )
        publish(
            ConsentChanged(
                consent_event_id=event.pk, patient_id=event.patient_id, kind=event.kind, method=event.method
            )
        )
    return event


def _ledger_number(phone_number: str, method: str) -> str:
    """The ledger's E.164 form of PHONE_NUMBER. A keyword or a provider's report came from a number the
    provider gave in E.164: it is honoured as given even when the phone-number metadata does not know the
    number's range (a new area code or exchange), since an opt-out must never be lost to a validation error."""
    try:
        return parse_phone(phone_number)
    except ValidationError:
        given = (phone_number or "").strip()
        if method in (ConsentMethod.KEYWORD, ConsentMethod.PROVIDER) and _PROVIDER_E164.fullmatch(given):
            return given
        raise


def consent_state(phone_number: str) -> str:
    """'given', 'revoked' or 'unknown' for an E.164 number: the latest ledger entry, in one indexed query."""
    kind = (
        ConsentEvent.objects.filter(phone_number=phone_number, kind__in=GENERAL_CONSENT_KINDS)
        .order_by("-occurred_at", "-id")
        .values_list("kind", flat=True)
        .first()
    )
    return kind or CONSENT_UNKNOWN


def consent_by_purpose(phone_number: str) -> dict[str, str]:
    """'given', 'revoked' or 'unknown' for each text purpose of an E.164 number, as the ledger stands.

    Purposes with a consent of their own (billing, marketing) follow their entries and opt-outs (as
    `consent_purpose_given` does); the others follow the general consent. One query.
    """
    kinds = list(
        ConsentEvent.objects.filter(phone_number=phone_number)
        .order_by("-occurred_at", "-id")
        .values_list("kind", flat=True)[:500]
    )
    general = next((kind for kind in kinds if kind in GENERAL_CONSENT_KINDS), CONSENT_UNKNOWN)
    states: dict[str, str] = {}
    for purpose in Purpose.values:
        if purpose not in PURPOSE_CONSENT_KINDS:
            states[purpose] = general
            continue
        given, withdrawn = PURPOSE_CONSENT_KINDS[purpose]
        latest = next((kind for kind in kinds if kind in (given, withdrawn, ConsentKind.REVOKED)), None)
        states[purpose] = (
            CONSENT_UNKNOWN if latest is None else CONSENT_GIVEN if latest == given else CONSENT_REVOKED
        )
    return states


def consent_states(numbers: Iterable[str]) -> dict[str, str]:
    """consent_state for each E.164 number of NUMBERS, in one query."""
    wanted = sorted(set(numbers))
    states = dict.fromkeys(wanted, CONSENT_UNKNOWN)
    if not wanted:
        return states
    seen: set[str] = set()
    rows = (
        ConsentEvent.objects.filter(phone_number__any_of=wanted, kind__in=GENERAL_CONSENT_KINDS)
        .order_by("phone_number", "-occurred_at", "-id")
        .values_list("phone_number", "kind")
    )
    for number, kind in rows:
        if number not in seen:  # rows come newest first per number: the first one wins
            seen.add(number)
            states[number] = kind
    return states


def consent_purpose_given(numbers: Iterable[str], purpose: str) -> frozenset[str]:
    """The numbers of NUMBERS whose consent to texts of PURPOSE stands (one query; all for other purposes).

    It stands when the latest of its purpose entries and opt-outs is the purpose's "given": withdrawing it,
    or a STOP after it, ends it; a later START does not bring it back.
    """
    wanted = sorted(set(numbers))
    if purpose not in PURPOSE_CONSENT_KINDS:
        return frozenset(wanted)
    given, withdrawn = PURPOSE_CONSENT_KINDS[purpose]
    if not wanted:
        return frozenset()
    seen: set[str] = set()
    standing: set[str] = set()
    rows = (
        ConsentEvent.objects.filter(
            phone_number__any_of=wanted, kind__in=[given, withdrawn, ConsentKind.REVOKED]
        )
        .order_by("phone_number", "-occurred_at", "-id")
        .values_list("phone_number", "kind")
    )
    for number, kind in rows:
        if number not in seen:  # newest first per number: the first one decides
            seen.add(number)
            if kind == given:
                standing.add(number)
    return frozenset(standing)


def _caregiver_clean(caregiver: Caregiver) -> None:
    if caregiver.phone:
        caregiver.phone = parse_phone(caregiver.phone)
    caregiver.name = caregiver.name.strip()
    caregiver.relationship = caregiver.relationship.strip()
    caregiver.full_clean()


def caregiver_create(
    *,
    patient: Patient,
    actor: Actor,
    name: str,
    relationship: str,
    phone: str = "",
    email: str = "",
    is_proxy: bool = False,
    receives_appointments: bool = False,
    receives_billing: bool = False,
    receives_care: bool = False,
    receives_general: bool = False,
) -> Caregiver:
    """Add a caregiver or proxy to PATIENT (phone in any usual format)."""
    caregiver = Caregiver(
        patient=patient,
        name=name,
        relationship=relationship,
        phone=phone or "",
        email=email or "",
        is_proxy=is_proxy,
        receives_appointments=receives_appointments,
        receives_billing=receives_billing,
        receives_care=receives_care,
        receives_general=receives_general,
    )
    _caregiver_clean(caregiver)
    with transaction.atomic():
        caregiver.save()
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            obj=caregiver,
            patient_id=patient.pk,
            detail="caregiver added",
        )
    return caregiver


def caregiver_update(*, caregiver: Caregiver, actor: Actor, changes: Mapping[str, Any]) -> list[str]:
    """Apply CHANGES to CAREGIVER; returns (and audits) the names of the fields that changed."""
    unknown = set(changes) - set(CAREGIVER_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    values = dict(changes)
    if values.get("phone"):
        values["phone"] = parse_phone(values["phone"])
    return _apply_changes(
        caregiver,
        values,
        clean=lambda: _caregiver_clean(caregiver),
        actor=actor,
        patient_id=caregiver.patient_id,
        label="caregiver fields",
    )


def patient_duplicate_candidates(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date | None,
    phones: Iterable[str] = (),
    among: Any = None,
    exclude_pk: int | None = None,
) -> list[Patient]:
    """Patients who may be the same person: same folded first and last name and birth date, or a shared phone.

    AMONG (a Patient queryset) narrows the search, e.g. to the patients the person may see.
    """
    base = Patient.objects.all() if among is None else among
    match = Q(pk__in=[])
    first_key, last_key = search_key(first_name), search_key(last_name)
    if first_key and last_key and date_of_birth is not None:
        match |= Q(date_of_birth=date_of_birth, last_name_key=last_key) & (
            Q(first_name_key=first_key) | Q(preferred_name_key=first_key)
        )
    numbers = []
    for raw in phones:
        try:
            numbers.append(parse_phone(raw))
        except ValidationError:
            continue  # an unparseable number matches nobody; the form reports it
    if numbers:
        match |= Q(pk__in=PatientPhone.objects.filter(number__in=numbers).values("patient_id"))
    queryset = (
        base.filter(match)
        .select_related("primary_location")
        .order_by("last_name_key", "first_name_key", "id")
    )
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    return list(queryset[:20])
