"""/api/v1/billing: import a practice-management export, and read a patient's balance and ledger.

Parse (schemas here) -> authorize (Perm, then the patient through `patient_for_user`) -> services/queries -> JSON.
The import is the CSV import's twin (`careline.billing.services.imports`): all or nothing, errors per record
and field, idempotent by external ids, and by an `Idempotency-Key` header for the request as a whole.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict

from careline.accounts.models import User
from careline.billing.models import MAX_AMOUNT_CENTS, BillingIdempotencyKey, Claim
from careline.billing.queries import Balance, patient_balance, patient_ledger
from careline.billing.services.charges import MAX_UNITS
from careline.billing.services.imports import (
    AdjudicationRecord,
    ChargeRecord,
    ClaimRecord,
    ImportRefused,
    Records,
    RowError,
    billing_import_apply,
    billing_import_check,
)
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_patient_access, audit_record
from careline.core.permissions import Perm, check_perm
from careline.patients.queries import patient_for_user

router = Router(tags=["billing"])

MAX_ID = 2**63 - 1
MAX_RECORDS = 10_000
IDEMPOTENCY_KEY_MAX = 255
REPLAY_HEADER = "Idempotent-Replayed"

Cents = Annotated[int, Field(ge=0, le=MAX_AMOUNT_CENTS)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ChargeIn(Strict):
    external_id: str = Field(max_length=100, description="The line's id in the practice-management system.")
    mrn: str = Field(max_length=32, description="The patient's medical record number.")
    appointment_id: str = Field(
        "",
        max_length=64,
        description="The visit: the appointment's external id (from the appointment import).",
    )
    visit_date: date | None = Field(
        None, description="The visit, when appointment_id is blank: the patient's one appointment that day."
    )
    service_date: date
    service_code: str = Field(max_length=20, examples=["99213"])
    description: str = Field(max_length=200, examples=["Office visit, established patient"])
    units: int = Field(1, ge=1, le=MAX_UNITS)
    unit_amount_cents: Cents = Field(description="Integer cents of the clinic's currency.", examples=[15000])


class ClaimIn(Strict):
    external_id: str = Field(
        max_length=100, description="The claim number in the practice-management system."
    )
    mrn: str = Field(max_length=32)
    appointment_id: str = Field("", max_length=64)
    visit_date: date | None = None
    payer: str = Field(max_length=120, examples=["Blue Cross"])
    member_id: str = Field(max_length=60, examples=["XJ123456"])
    status: Literal["submitted", "paid", "denied", "appealed"] = Field(
        description="A known claim moves submitted -> paid/denied, paid/denied -> appealed, appealed -> paid/denied."
    )
    submitted_on: date | None = None


class AdjudicationIn(Strict):
    claim_id: str = Field(
        max_length=100, description="The claim's external_id (in this request or imported)."
    )
    charge_id: str = Field(
        max_length=100, description="The charge's external_id (in this request or imported)."
    )
    allowed_cents: Cents
    paid_by_insurer_cents: Cents
    adjustment_cents: Cents = 0
    adjustment_reason_code: str = Field("", max_length=10, examples=["CO-45"])
    adjustment_reason: str = Field("", max_length=200)
    copay_cents: Cents = 0
    coinsurance_cents: Cents = 0
    deductible_cents: Cents = 0
    adjudicated_on: date | None = None


class ImportIn(Strict):
    charges: list[ChargeIn] = Field(default_factory=list, max_length=MAX_RECORDS)
    claims: list[ClaimIn] = Field(default_factory=list, max_length=MAX_RECORDS)
    adjudications: list[AdjudicationIn] = Field(default_factory=list, max_length=MAX_RECORDS)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "charges": [
                        {
                            "external_id": "CHG-1001",
                            "mrn": "MRN-00042",
                            "appointment_id": "APT-9001",
                            "service_date": "2030-03-04",
                            "service_code": "99213",
                            "description": "Office visit",
                            "units": 1,
                            "unit_amount_cents": 15000,
                        }
                    ],
                    "claims": [
                        {
                            "external_id": "CLM-501",
                            "mrn": "MRN-00042",
                            "appointment_id": "APT-9001",
                            "payer": "Blue Cross",
                            "member_id": "XJ123456",
                            "status": "paid",
                        }
                    ],
                    "adjudications": [
                        {
                            "claim_id": "CLM-501",
                            "charge_id": "CHG-1001",
                            "allowed_cents": 10000,
                            "paid_by_insurer_cents": 8000,
                            "adjustment_cents": 5000,
                            "adjustment_reason_code": "CO-45",
                            "copay_cents": 2000,
                        }
                    ],
                }
            ]
        },
    )


class ImportOut(Schema):
    dry_run: bool = Field(description="True when only checked (?dry_run=true): nothing was written.")
    charges_created: int
    charges_unchanged: int
    claims_created: int
    claims_status_changed: int
    claims_unchanged: int
    adjudications_recorded: int


class ErrorItem(Schema):
    field: str = Field(examples=["charges.0.unit_amount_cents"])
    message: str


class ErrorOut(Schema):
    detail: str = Field(examples=["Nothing was imported: 1 problem."])
    errors: list[ErrorItem]


class ImportFilters(Schema):
    dry_run: bool = Field(False, description="Check only, and answer what the import would do.")


def _staff(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def _records(payload: ImportIn) -> Records:
    """The request's records, each REF naming where it is in the body."""
    return Records(
        charges=[
            ChargeRecord(ref=("charges", i), **item.model_dump()) for i, item in enumerate(payload.charges)
        ],
        claims=[ClaimRecord(ref=("claims", i), **item.model_dump()) for i, item in enumerate(payload.claims)],
        adjudications=[
            AdjudicationRecord(ref=("adjudications", i), **item.model_dump())
            for i, item in enumerate(payload.adjudications)
        ],
    )


def _field(problem: RowError) -> str:
    if problem.ref is None:
        return "body"
    name, index = problem.ref
    return f"{name}.{index}.{problem.field}" if problem.field else f"{name}.{index}"


def _refused(errors: list[RowError]) -> dict[str, Any]:
    count = len(errors)
    return {
        "detail": f"Nothing was imported: {count} problem{'s' if count != 1 else ''}.",
        "errors": [{"field": _field(problem), "message": problem.message} for problem in errors],
    }


def _request_hash(payload: ImportIn, dry_run: bool) -> str:
    body = json.dumps({"body": payload.model_dump(mode="json"), "dry_run": dry_run}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _key_problem(key: str) -> str | None:
    if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX or not all(" " <= c <= "~" for c in key):
        return (
            f"The Idempotency-Key is 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters (a UUID is ideal)."
        )
    return None


def _replay(stored: BillingIdempotencyKey, request_hash: str, response: HttpResponse) -> Status[Any]:
    if stored.request_hash != request_hash:
        return Status(
            409,
            {
                "detail": "This Idempotency-Key was already used with a different request body. Nothing was "
                "imported; use a new key for a new request.",
                "errors": [{"field": "Idempotency-Key", "message": "Reused with a different body."}],
            },
        )
    response[REPLAY_HEADER] = "true"
    return Status(stored.status_code, stored.response)


@router.post(
    "/imports",
    response={200: ImportOut, 409: ErrorOut, 422: ErrorOut},
    summary="Import charges, claims and adjudications",
    openapi_extra={
        "parameters": [
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "schema": {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX},
                "description": "A key of the client's choosing (a UUID). The same key with the same body "
                "answers the first import's response again (header Idempotent-Replayed: true) without "
                "importing twice; with another body, 409 (as /api/v1/messages). Kept for applied imports only.",
            }
        ]
    },
)
def billing_import_api(
    request: HttpRequest, payload: ImportIn, filters: Query[ImportFilters], response: HttpResponse
) -> Status[Any]:
    """Import a practice-management export: all records, or none with every problem by record and field.

    Charges and claims are found by `external_id`, so sending the same records again changes nothing; a
    claim's new status updates the claim (publishing ClaimStatusChanged). Patients are matched by MRN among
    those the token's user may see; visits by the appointment's external id or the patient's visit date."""
    user = _staff(request)
    check_perm(user, Perm.BILLING_RECORD)
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        problem = _key_problem(key)
        if problem:
            return Status(
                422, {"detail": problem, "errors": [{"field": "Idempotency-Key", "message": problem}]}
            )
    records = _records(payload)
    if filters.dry_run:
        plan = billing_import_check(records=records, user=user)
        if plan.errors:
            return Status(422, _refused(plan.errors))
        return Status(200, {"dry_run": True, **plan.summary})
    request_hash = _request_hash(payload, filters.dry_run)
    if key is not None:
        stored = BillingIdempotencyKey.objects.filter(user=user, key=key).first()
        if stored is not None:
            return _replay(stored, request_hash, response)
    actor = Actor.from_request(request)
    try:
        with transaction.atomic():
            # The key first: a concurrent request with the same key waits here, then replays this answer.
            row = (
                BillingIdempotencyKey.objects.create(
                    user=user, key=key, request_hash=request_hash, status_code=200, response={}
                )
                if key is not None
                else None
            )
            plan = billing_import_apply(records=records, actor=actor)
            body = {"dry_run": False, **plan.summary}
            if row is not None:
                BillingIdempotencyKey.objects.filter(pk=row.pk).update(response=body)
            audit_record(
                actor=actor,
                action=AuditAction.IMPORT,
                object_type="billing.import",
                detail="billing API import: "
                + ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in plan.summary.items()),
            )
    except ImportRefused as refused:
        return Status(422, _refused(refused.errors))
    except IntegrityError:
        stored = BillingIdempotencyKey.objects.filter(user=user, key=key).first()
        if stored is None:
            raise
        return _replay(stored, request_hash, response)
    return Status(200, body)


# --- reads ---------------------------------------------------------------------------------------------


class BalanceOut(Schema):
    patient_id: int
    currency: str = Field(examples=["USD"])
    responsibility_cents: int = Field(description="What the patient owes after insurance.")
    paid_cents: int
    refunded_cents: int
    credits_cents: int
    write_offs_cents: int
    due_cents: int = Field(description="What the patient owes now (never below zero).")
    credit_balance_cents: int = Field(description="What the clinic owes the patient back.")


class AdjudicationOut(Schema):
    claim_id: int
    allowed_cents: int
    paid_by_insurer_cents: int
    adjustment_cents: int
    adjustment_reason_code: str
    copay_cents: int
    coinsurance_cents: int
    deductible_cents: int
    patient_responsibility_cents: int


class ChargeOut(Schema):
    id: int
    external_id: str
    visit_id: int | None
    service_date: date
    service_code: str
    description: str
    units: int
    unit_amount_cents: int
    amount_cents: int
    voided: bool
    adjudications: list[AdjudicationOut]


class ClaimOut(Schema):
    id: int
    external_id: str
    visit_id: int
    payer: str
    member_id: str
    status: str
    is_final: bool


class PaymentOut(Schema):
    id: int
    amount_cents: int
    method: str
    received_at: datetime
    refunded_cents: int


class LedgerOut(Schema):
    balance: BalanceOut
    charges: list[ChargeOut]
    claims: list[ClaimOut]
    payments: list[PaymentOut]


def _balance(patient_id: int, balance: Balance) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "currency": balance.currency,
        "responsibility_cents": balance.responsibility,
        "paid_cents": balance.paid,
        "refunded_cents": balance.refunded,
        "credits_cents": balance.credits,
        "write_offs_cents": balance.write_offs,
        "due_cents": balance.due,
        "credit_balance_cents": balance.credit_balance,
    }


@router.get("/patients/{patient_id}/balance", response=BalanceOut, summary="A patient's balance")
def billing_balance_api(request: HttpRequest, patient_id: Path[RowId]) -> dict[str, Any]:
    """The patient's balance, derived from the ledger (audited; billing staff)."""
    patient = patient_for_user(request.user, patient_id, Perm.BILLING_VIEW)
    balance = patient_balance(patient)
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=patient,
        detail="api billing balance",
    )
    return _balance(patient.pk, balance)


@router.get("/patients/{patient_id}/ledger", response=LedgerOut, summary="A patient's billing ledger")
def billing_ledger_api(request: HttpRequest, patient_id: Path[RowId]) -> dict[str, Any]:
    """The patient's charges (with what insurance decided), claims, payments and balance (audited)."""
    patient = patient_for_user(request.user, patient_id, Perm.BILLING_VIEW)
    ledger = patient_ledger(patient)
    audit_patient_access(
        request=request,
        action=AuditAction.VIEW,
        patient_id=patient.pk,
        obj=patient,
        detail="api billing ledger",
    )
    charges = [charge for visit in ledger.visits for charge in visit.charges]
    claims = list(Claim.objects.filter(patient=patient).order_by("submitted_at", "id"))
    return {
        "balance": _balance(patient.pk, ledger.balance),
        "charges": [
            {
                **{name: getattr(charge, name) for name in ChargeOut.model_fields if name != "adjudications"},
                "adjudications": [
                    {
                        **{name: getattr(a, name) for name in AdjudicationOut.model_fields},
                    }
                    for a in charge.adjudications.all()
                ],
            }
            for charge in charges
        ],
        "claims": [{name: getattr(claim, name) for name in ClaimOut.model_fields} for claim in claims],
        "payments": [
            {
                "id": p.pk,
                "amount_cents": p.amount_cents,
                "method": p.method,
                "received_at": p.received_at,
                "refunded_cents": sum(r.amount_cents for r in p.refunds.all()),
            }
            for p in ledger.payments
        ],
    }
