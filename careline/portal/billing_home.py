"""The billing area's Home card: the balance due now and the open statement (imported by PortalConfig.ready)."""

from __future__ import annotations

from careline.billing.models import Statement, StatementState
from careline.billing.queries import patient_balance
from careline.portal.access import PortalSession
from careline.portal.home import HomeCard, home_card
from careline.portal.models import PortalSection


@home_card(order=40)
def balance_card(session: PortalSession) -> HomeCard | None:
    """What is due now and the open statement's due date; nothing when nothing is due or not granted."""
    if not session.may(PortalSection.BILLING):
        return None
    balance = patient_balance(session.patient)
    if not balance.due:
        return None
    statement = (
        Statement.objects.filter(patient=session.patient, state=StatementState.ISSUED)
        .order_by("-issued_at", "-id")
        .first()
    )
    return HomeCard(
        template="portal/billing/_home_balance.html", context={"balance": balance, "statement": statement}
    )
