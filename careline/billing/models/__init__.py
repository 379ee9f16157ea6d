"""Tables of the billing app (money in integer cents of settings.CARELINE_CURRENCY)."""

from careline.billing.models.checkouts import CheckoutState, PaymentCheckout
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
from careline.billing.models.statements import Statement, StatementChannel, StatementState

__all__ = [
    "DESK_METHODS",
    "FINAL_CLAIM_STATUSES",
    "MAX_AMOUNT_CENTS",
    "Adjudication",
    "AdjustmentKind",
    "BalanceAdjustment",
    "Charge",
    "CheckoutState",
    "Claim",
    "ClaimStatus",
    "Payment",
    "PaymentCheckout",
    "PaymentMethod",
    "Refund",
    "SelfPayVisit",
    "Statement",
    "StatementChannel",
    "StatementState",
    "default_currency",
]
