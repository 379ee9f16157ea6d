"""/api/v1/messages: text a patient as the token's staff user, and list a patient's messages with their states.

An `Idempotency-Key` header makes a retried POST return the first result: the key becomes the message's
idempotency key (namespaced per token user), so the database's unique constraint holds even when two
retries arrive at once. The same key with a different request answers 409.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import AfterValidator, ConfigDict, field_validator

from careline.accounts.models import User
from careline.core.audit import AuditAction, audit_patient_access
from careline.core.dates import check_date, schedule_bounds
from careline.core.permissions import Perm, check_perm
from careline.messaging.models import Message
from careline.messaging.outbound.compose import MessageRefused, message_send
from careline.messaging.queries.outbox import patient_messages
from careline.patients.queries import patient_for_user

router = Router(tags=["messages"])

MAX_ID = 2**63 - 1
MAX_LIMIT = 100
DEFAULT_LIMIT = 25
MAX_OFFSET = 10_000
MAX_KEY_LENGTH = 100
LATEST_SEND_AT = timedelta(days=365)
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


def _body_text(value: str) -> str:
    # Newlines and tabs belong in a text; other control characters (NUL above all) do not.
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValueError("Must not contain control characters.")
    value = value.strip()
    if not value:
        raise ValueError("Write a message first.")
    return value


class MessageIn(Schema):
    model_config = ConfigDict(extra="forbid")

    patient_id: RowId
    body: Annotated[str, Field(max_length=settings.CARELINE_MAX_MESSAGE_LENGTH), AfterValidator(_body_text)]
    send_at: datetime | None = Field(None, description="ISO 8601 with a time zone offset; blank: now")

    @field_validator("send_at")
    @classmethod
    def _check_send_at(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("Include a time zone offset, for example 2030-01-31T09:00:00-05:00.")
        check_date(value, schedule_bounds)
        try:
            too_late = value - timezone.now() > LATEST_SEND_AT
        except OverflowError:
            too_late = True
        if too_late:
            raise ValueError("Schedule messages at most a year ahead.")
        return value


class MessageOut(Schema):
    id: int
    patient_id: int | None
    direction: str
    kind: str
    state: str
    suppression_reason: str
    error_code: str
    error_message: str
    body: str
    to_address: str
    from_address: str
    scheduled: bool
    due_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    segments: int

    @staticmethod
    def resolve_body(message: Message) -> str:
        """A sensitive message's text (a one-time code, a private link) is never handed out."""
        return message.staff_body


class MessagePage(Schema):
    items: list[MessageOut]
    limit: int
    offset: int
    has_more: bool
    next_offset: int | None


class MessageListFilters(Schema):
    patient_id: RowId
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


def _staff(request: HttpRequest) -> User:
    # ApiTokenAuth put the token's staff user on the request.
    user: User = request.user  # type: ignore[assignment]
    return user


def _idempotency_key(request: HttpRequest, user: User) -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationError(
            {"Idempotency-Key": [f"Use 1 to {MAX_KEY_LENGTH} printable ASCII characters, e.g. a UUID."]}
        )
    return f"api:{user.pk}:{key}"


def _same_request(message: Message, payload: MessageIn) -> bool:
    """Whether a stored message answers PAYLOAD (a retry), not a different request reusing the key."""
    if message.patient_id != payload.patient_id or message.body != payload.body:
        return False
    wanted = payload.send_at if payload.send_at and payload.send_at > message.created_at else None
    return (wanted is None) == (not message.scheduled) and (
        wanted is None
        or message.due_at is None
        or abs(message.due_at - wanted) < timedelta(seconds=1)
        or message.held_for_quiet_hours
    )


@router.post("", response={201: MessageOut}, summary="Text a patient")
def message_create_api(request: HttpRequest, payload: MessageIn) -> Status[Message]:
    """Send (or schedule with `send_at`) a text to a patient the token's user may see.

    Send an `Idempotency-Key` header to retry safely: the same key returns the first message; the same
    key with a different request answers 409. A message the patient may not receive (no consent, opted
    out, deceased) is stored with state `suppressed` and its reason.
    """
    user = _staff(request)
    check_perm(user, Perm.INBOX_SEND)
    key = _idempotency_key(request, user)
    if key is not None:
        first = Message.objects.filter(idempotency_key=key).first()
        if first is not None:
            if not _same_request(first, payload):
                raise HttpError(409, "This Idempotency-Key was already used for a different request.")
            patient_for_user(user, payload.patient_id, Perm.INBOX_SEND)
            return Status(201, first)
    patient = patient_for_user(user, payload.patient_id, Perm.INBOX_SEND)
    try:
        message = message_send(
            body=payload.body, patient=patient, author=user, idempotency_key=key, send_at=payload.send_at
        )
    except MessageRefused as refusal:
        raise ValidationError({"body": [str(refusal)]}) from None
    if key is not None and not _same_request(message, payload):
        # A concurrent request with the same key and another body won the race.
        raise HttpError(409, "This Idempotency-Key was already used for a different request.")
    audit_patient_access(
        request=request, action=AuditAction.CREATE, patient_id=patient.pk, obj=message, detail="api message"
    )
    return Status(201, message)


@router.get("", response=MessagePage, summary="List a patient's messages")
def message_list_api(request: HttpRequest, filters: Query[MessageListFilters]) -> dict[str, Any]:
    """A patient's messages in and out with their delivery states, newest first, `limit` at a time."""
    user = _staff(request)
    unknown = sorted(set(request.GET) - set(MessageListFilters.model_fields))
    if unknown:
        raise ValidationError(
            {name[:40]: ["Unknown parameter; use patient_id, limit and offset."] for name in unknown[:10]}
        )
    patient = patient_for_user(user, filters.patient_id, Perm.INBOX_VIEW)
    found = list(patient_messages(patient)[filters.offset : filters.offset + filters.limit + 1])
    has_more = len(found) > filters.limit
    page = found[: filters.limit]
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        detail=f"api messages; offset {filters.offset}; {len(page)} returned",
    )
    return {
        "items": page,
        "limit": filters.limit,
        "offset": filters.offset,
        "has_more": has_more,
        "next_offset": filters.offset + filters.limit if has_more else None,
    }
