"""The "Balance" card on the staff patient page and in the inbox's patient panel (registered in BillingConfig.ready).

Billing staff (and administrators) see the account: what is due, any credit, and a link to the ledger. The
front desk sees the balance due only, with a link to take a payment at the desk. Clinicians without the
billing role see nothing. The page's own audit entry names the sections it showed, so the read is recorded.
"""

from __future__ import annotations

from typing import Any

from careline.billing.queries import patient_balance
from careline.core.permissions import Perm, has_perm
from careline.messaging.panel import PanelContext, panel_section_register
from careline.patients.page_sections import patient_section_register

CARD_TEMPLATE = "billing/_balance_card.html"
PANEL_TEMPLATE = "billing/_panel_balance.html"


def balance_context(user: Any, patient: Any) -> dict[str, Any] | None:
    """The balance of PATIENT as USER may see it (the whole account, the amount due only, or nothing)."""
    sees_account = has_perm(user, Perm.BILLING_VIEW)
    takes_payments = has_perm(user, Perm.PAYMENT_TAKE)
    if not sees_account and not takes_payments:
        return None
    return {
        "balance": patient_balance(patient),
        "patient_id": patient.pk,
        "sees_account": sees_account,
        "takes_payments": takes_payments,
    }


def balance_panel_context(panel: PanelContext) -> dict[str, Any] | None:
    """The balance section of the inbox's patient panel (the same rule as the patient page's card)."""
    return balance_context(panel.user, panel.patient)


def balance_sections_register() -> None:
    """Add the Balance card to the patient page and the inbox's patient panel."""
    patient_section_register(
        code="balance", title="Balance", template=CARD_TEMPLATE, context=balance_context, order=30
    )
    panel_section_register(
        code="balance", title="Open balance", template=PANEL_TEMPLATE, context=balance_panel_context, order=20
    )
