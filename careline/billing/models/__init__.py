"""Tables of the billing app (money in integer cents of settings.CARELINE_CURRENCY)."""

from careline.billing.models.checkouts import CheckoutState, PaymentCheckout
from careline.billing.models.imports import BillingIdempotencyKey, BillingImport
from careline.billing.models.ledger import (
    FINAL_CLAIM_STATUSES,
    MAX_AMOUNT_CENTS,
    Adjudication,
    Charge,
    Claim,
    ClaimStatus,
    SelfPayVisit,
    default_currency,
)
from careline.billing.models.payments import (
    DESK_METHODS,
    AdjustmentKind,
    BalanceAdjustment,
    Payment,
    PaymentMethod,
    Refund,
)
from careline.billing.models.statements import (
    PayPageAttempt,
    Statement,
    StatementChannel,
    StatementEvent,
    StatementEventKind,
    StatementLine,
    StatementLineKind,
    StatementRun,
    StatementRunState,
    StatementState,
)

__all__ = [
    "DESK_METHODS",
    "FINAL_CLAIM_STATUSES",
    "MAX_AMOUNT_CENTS",
    "Adjudication",
    "AdjustmentKind",
    "BalanceAdjustment",
    "BillingIdempotencyKey",
    "BillingImport",
    "Charge",
    "CheckoutState",
    "Claim",
    "ClaimStatus",
    "PayPageAttempt",
    "Payment",
    "PaymentCheckout",
    "PaymentMethod",
    "Refund",
    "SelfPayVisit",
    "Statement",
    "StatementChannel",
    "StatementEvent",
    "StatementEventKind",
    "StatementLine",
    "StatementLineKind",
    "StatementRun",
    "StatementRunState",
    "StatementState",
    "default_currency",
]
