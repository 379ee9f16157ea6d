"""What happens to a patient's account, published by `services/` for listeners (statements, follow-ups, receipts).

Payloads are ids and the few facts a listener needs to decide; never what the visit was for. Subscribe with
`careline.core.events.subscribe` in your AppConfig.ready(); see "Domain events" in docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from careline.core.events import Event


@dataclass(frozen=True, kw_only=True)
class PaymentRecorded(Event):
    """A payment was recorded (at the desk or from a provider); follow-ups stop, a receipt may go out."""

    payment_id: int
    patient_id: int
    amount_cents: int
    currency: str
    method: str


@dataclass(frozen=True, kw_only=True)
class RefundRecorded(Event):
    """Part or all of a payment was given back."""

    refund_id: int
    payment_id: int
    patient_id: int
    amount_cents: int
    currency: str


@dataclass(frozen=True, kw_only=True)
class ClaimStatusChanged(Event):
    """A claim's status changed (an adjudication, an appeal); IS_FINAL: the payer's answer now stands."""

    claim_id: int
    visit_id: int
    patient_id: int
    from_status: str
    to_status: str
    is_final: bool


@dataclass(frozen=True, kw_only=True)
class VisitMarkedSelfPay(Event):
    """An administrator marked a visit self-pay: its charges are the patient's, and it is ready for a statement."""

    visit_id: int
    patient_id: int


@dataclass(frozen=True, kw_only=True)
class StatementIssued(Event):
    """A statement was issued (and handed to its channel); follow-ups start from it, an older one is superseded.

    DUE_DATE is an ISO date; CHANNEL a `StatementChannel` value."""

    statement_id: int
    patient_id: int
    payer_id: int
    amount_due_cents: int
    currency: str
    due_date: str
    channel: str


BILLING_EVENTS: tuple[type[Event], ...] = (
    StatementIssued,
    PaymentRecorded,
    RefundRecorded,
    ClaimStatusChanged,
    VisitMarkedSelfPay,
)
