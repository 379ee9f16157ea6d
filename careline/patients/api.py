"""/api/v1/patients: search, register, read and update patients as the token's staff user.

Parse (schemas here) -> authorize (Perm, patients_visible_to) -> registry services / queries -> JSON.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import AfterValidator, ConfigDict, ValidationInfo, field_validator

from careline.accounts.models import User
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.dates import birth_date_bounds, check_date
from careline.core.languages import DEFAULT_TEXT_LANGUAGE, supported_languages
from careline.core.permissions import Perm, check_perm, has_perm
from careline.core.phones import parse_phone
from careline.core.text import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from careline.locations.models import Location
from careline.patients.models import Patient, PatientStatus, Sex
from careline.patients.queries import patient_for_user
from careline.patients.queries.search import patient_search_queryset
from careline.patients.services.access import patient_read
from careline.patients.services.registry import patient_create, patient_update

router = Router(tags=["patients"])

MAX_LIMIT = 100
DEFAULT_LIMIT = 25
MAX_OFFSET = 10_000
# Ids beyond a signed 64-bit integer cannot be rows; refusing them early keeps SQLite from overflowing.
MAX_ID = 2**63 - 1
MAX_PHONES = 10


def _text(value: str) -> str:
    """Trimmed text without control characters (PostgreSQL refuses NUL; none belong in a name)."""
    if has_control_characters(value, allowed="\t"):
        raise ValueError(CONTROL_CHARACTERS_MESSAGE)
    return value.strip()


def _phone(value: str) -> str:
    """E.164 form of a phone number written in any usual format."""
    try:
        return parse_phone(_text(value))
    except ValidationError as exc:
        raise ValueError(exc.messages[0]) from None


Text = Annotated[str, AfterValidator(_text)]
PhoneNumber = Annotated[str, Field(max_length=40), AfterValidator(_phone)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _birth_date(value: date) -> date:
    today = timezone.localdate()
    if value > today:
        raise ValueError("The date of birth cannot be in the future.")
    return check_date(value, birth_date_bounds)


def _time_zone(value: str) -> str:
    value = _text(value)
    if not value:
        return value
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"“{value[:64]}” is not a time zone name such as America/New_York.") from None
    return value


def _email(value: str) -> str:
    value = _text(value)
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise ValueError("Enter a valid email address.") from None
    return value


class PhoneOut(Schema):
    number: str
    kind: str
    is_primary: bool
    label: str


class PatientOut(Schema):
    id: int
    mrn: str
    legal_first_name: str
    legal_last_name: str
    preferred_name: str
    display_name: str
    date_of_birth: date
    sex: str
    pronouns: str
    language: str
    time_zone: str
    address_line1: str
    address_line2: str
    city: str
    region: str
    postal_code: str
    country: str
    email: str
    primary_location_id: int
    primary_clinician_id: int | None
    status: str
    confidential_communications: bool
    phones: list[PhoneOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_phones(obj: Patient) -> list[Any]:
        return list(obj.phones.all())


class PatientPage(Schema):
    items: list[PatientOut]
    limit: int
    offset: int
    has_more: bool
    next_offset: int | None


class PatientListFilters(Schema):
    q: Text = Field("", max_length=200, description="Name, MRN, phone or date of birth")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class _PatientFields(Schema):
    """Validation shared by create and update; unknown fields are refused, never ignored."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("date_of_birth", check_fields=False)
    @classmethod
    def _check_birth_date(cls, value: date) -> date:
        return _birth_date(value)

    @field_validator("time_zone", check_fields=False)
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        return _time_zone(value)

    @field_validator("email", check_fields=False)
    @classmethod
    def _check_email(cls, value: str) -> str:
        return _email(value)

    @field_validator("country", check_fields=False)
    @classmethod
    def _check_country(cls, value: str) -> str:
        if len(value) != 2 or not value.isascii() or not value.isalpha():
            raise ValueError("Use a two-letter country code such as US.")
        return value.upper()


def _supported_language(value: str) -> str:
    if value not in supported_languages():
        raise ValueError(
            f"Use one of the languages patient texts are written in: {', '.join(supported_languages())}."
        )
    return value


# A code of settings.LANGUAGES (checked when a request arrives, so a new language needs no code change here).
LanguageCode = Annotated[str, AfterValidator(_supported_language)]


class PatientCreateIn(_PatientFields):
    mrn: Text = Field("", max_length=32, description="Blank: Careline assigns one")
    legal_first_name: Text = Field(..., min_length=1, max_length=100)
    legal_last_name: Text = Field(..., min_length=1, max_length=100)
    preferred_name: Text = Field("", max_length=100)
    date_of_birth: date
    sex: Sex = Sex.UNKNOWN
    pronouns: Text = Field("", max_length=40)
    language: LanguageCode = DEFAULT_TEXT_LANGUAGE
    time_zone: str = Field("", max_length=64, description="Blank: the primary location's")
    address_line1: Text = Field("", max_length=200)
    address_line2: Text = Field("", max_length=200)
    city: Text = Field("", max_length=100)
    region: Text = Field("", max_length=100)
    postal_code: Text = Field("", max_length=20)
    country: str = "US"
    email: str = Field("", max_length=254)
    primary_location_id: RowId
    primary_clinician_id: RowId | None = None
    confidential_communications: bool = False
    phones: list[PhoneNumber] = Field(
        default_factory=list, max_length=MAX_PHONES, description="First is primary"
    )


class PatientUpdateIn(_PatientFields):
    """Only the fields sent are changed; null is refused for fields that cannot be empty."""

    mrn: Text | None = Field(None, min_length=1, max_length=32)
    legal_first_name: Text | None = Field(None, min_length=1, max_length=100)
    legal_last_name: Text | None = Field(None, min_length=1, max_length=100)
    preferred_name: Text | None = Field(None, max_length=100)
    date_of_birth: date | None = None
    sex: Sex | None = None
    pronouns: Text | None = Field(None, max_length=40)
    language: LanguageCode | None = None
    time_zone: str | None = Field(None, max_length=64)
    address_line1: Text | None = Field(None, max_length=200)
    address_line2: Text | None = Field(None, max_length=200)
    city: Text | None = Field(None, max_length=100)
    region: Text | None = Field(None, max_length=100)
    postal_code: Text | None = Field(None, max_length=20)
    country: str | None = None
    email: str | None = Field(None, max_length=254)
    primary_location_id: RowId | None = None
    primary_clinician_id: RowId | None = None
    status: PatientStatus | None = None
    confidential_communications: bool | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        # Only a clinician can be unassigned; every other field is left out to keep its value.
        if value is None and info.field_name != "primary_clinician_id":
            raise ValueError("Cannot be null; leave the field out to keep its current value.")
        return value


def _location_for(user: User, location_id: int) -> Location:
    """The location USER may keep patients at: 422 when there is none, 403 when it is not theirs."""
    location = Location.objects.filter(pk=location_id).first()
    if location is None:
        raise ValidationError({"primary_location_id": ["There is no such location."]})
    if not has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS) and location.pk not in user.location_ids:
        raise PermissionDenied
    return location


def _clinician_for(clinician_id: int | None) -> User | None:
    if clinician_id is None:
        return None
    clinician = User.objects.filter(pk=clinician_id, is_active=True).first()
    if clinician is None:
        raise ValidationError({"primary_clinician_id": ["There is no such active staff member."]})
    # The same rule as the registration form, which offers only clinicians.
    if not clinician.is_clinician:
        raise ValidationError({"primary_clinician_id": ["This staff member is not a clinician."]})
    return clinician


def _staff(request: HttpRequest) -> User:
    # ApiTokenAuth put the token's staff user on the request.
    user: User = request.user  # type: ignore[assignment]
    return user


def _with_phones(patient: Patient) -> Patient:
    prefetch_related_objects([patient], "phones")
    return patient


@router.get("", response=PatientPage, summary="Search or list patients")
def patient_list_api(request: HttpRequest, filters: Query[PatientListFilters]) -> dict[str, Any]:
    """Patients the token's user may see, matching `q` when given, `limit` at a time from `offset`."""
    user = _staff(request)
    check_perm(user, Perm.PATIENT_VIEW)
    # ninja ignores query parameters it does not know; a misspelt "limt" should not silently mean 25.
    unknown = sorted(set(request.GET) - set(PatientListFilters.model_fields))
    if unknown:
        raise ValidationError(
            {name[:40]: ["Unknown parameter; use q, limit and offset."] for name in unknown[:10]}
        )
    # The search's queryset (not patient_search's list) so a page can start at any offset.
    _, matches = patient_search_queryset(user, filters.q)
    # One more than the page tells whether another page follows.
    found = list(matches[filters.offset : filters.offset + filters.limit + 1])
    has_more = len(found) > filters.limit
    page = found[: filters.limit]
    ids = ",".join(str(patient.pk) for patient in page)
    audit_record(
        request=request,
        action=AuditAction.SEARCH,
        object_type="patients.patient",
        detail=f"api list; q: {len(filters.q)} chars; offset {filters.offset}; returned ids: {ids}",
    )
    return {
        "items": page,
        "limit": filters.limit,
        "offset": filters.offset,
        "has_more": has_more,
        "next_offset": filters.offset + filters.limit if has_more else None,
    }


@router.post("", response={201: PatientOut}, summary="Register a patient")
def patient_create_api(request: HttpRequest, payload: PatientCreateIn) -> Status[Patient]:
    """Register a patient at one of the token user's locations; phones in any usual format, first is primary."""
    user = _staff(request)
    check_perm(user, Perm.PATIENT_CREATE)
    location = _location_for(user, payload.primary_location_id)
    clinician = _clinician_for(payload.primary_clinician_id)
    fields = payload.model_dump(exclude={"primary_location_id", "primary_clinician_id"})
    patient = patient_create(
        actor=Actor.from_request(request), primary_location=location, primary_clinician=clinician, **fields
    )
    return Status(201, _with_phones(patient))


@router.get("/{patient_id}", response=PatientOut, summary="Read a patient")
def patient_detail_api(request: HttpRequest, patient_id: Path[RowId]) -> Patient:
    """One patient's demographics and phones (403 when the token's user may not see them)."""
    patient = patient_read(actor=Actor.from_request(request), patient_id=patient_id, detail="api")
    return _with_phones(patient)


@router.patch("/{patient_id}", response=PatientOut, summary="Change a patient's demographics")
def patient_update_api(request: HttpRequest, patient_id: Path[RowId], payload: PatientUpdateIn) -> Patient:
    """Change only the fields sent; the change is audited with the names of the fields that changed."""
    user = _staff(request)
    patient = patient_for_user(user, patient_id, Perm.PATIENT_EDIT)
    changes = payload.model_dump(exclude_unset=True)
    if "primary_location_id" in changes:
        changes["primary_location"] = _location_for(user, changes.pop("primary_location_id"))
    if "primary_clinician_id" in changes:
        changes["primary_clinician"] = _clinician_for(changes.pop("primary_clinician_id"))
    patient_update(patient=patient, actor=Actor.from_request(request), changes=changes)
    return _with_phones(patient)
