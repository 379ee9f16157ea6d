"""The pay page's checks: the payer's date of birth with a limit on wrong tries, a limit on fresh links asked
for, and the start of an online payment through the active payment provider.

Wrong tries are rows of PayPageAttempt (a keyed hash of the statement or the client address, and the time),
counted in a window, so every web process sees the same counts (as the portal's invitation check does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from careline.billing.models import Payment, PayPageAttempt, Statement, StatementEventKind, StatementState
from careline.billing.providers import Checkout, PaymentProviderError, active_provider
from careline.billing.queries import statement_balance
from careline.billing.queries.collections import instalment_due
from careline.billing.services.statements import _event, statement_link_resend
from careline.core.actor import Actor
from careline.core.audit import AuditAction, audit_record
from careline.core.registry import UnknownPlugin

# Fresh links one statement may ask for in an hour (each goes to the payer's own channel, but texts cost).
FRESH_LINKS_PER_HOUR = 3


def _key(value: str) -> str:
    return salted_hmac("careline.billing.paypage", value, algorithm="sha256").hexdigest()


def _count(value: str, window: timedelta) -> int:
    return PayPageAttempt.objects.filter(key=_key(value), at__gt=timezone.now() - window).count()


def _record(value: str) -> None:
    now = timezone.now()
    key = _key(value)
    PayPageAttempt.objects.filter(key=key, at__lt=now - timedelta(days=1)).delete()
    PayPageAttempt.objects.create(key=key, at=now)


def _window() -> timedelta:
    return timedelta(minutes=settings.CARELINE_PAY_LINK_LOCK_MINUTES)


def pay_page_blocked(*, statement_id: int, address: str | None) -> bool:
    """Whether the statement's link (or this address, on any link) has had too many wrong dates of birth."""
    limit = settings.CARELINE_PAY_LINK_TRIES
    if _count(f"statement:{statement_id}", _window()) >= limit:
        return True
    return bool(address) and _count(f"address:{address}", _window()) >= limit * 4


def pay_page_identity_check(*, statement: Statement, date_of_birth: date, address: str | None) -> bool:
    """Whether DATE_OF_BIRTH is the payer's; a wrong one is counted (and audited, naming the patient)."""
    payer = statement.guarantor or statement.patient
    if payer.date_of_birth == date_of_birth:
        PayPageAttempt.objects.filter(key=_key(f"statement:{statement.pk}")).delete()
        return True
    _record(f"statement:{statement.pk}")
    if address:
        _record(f"address:{address}")
    audit_record(
        actor=Actor.system("pay-page"), action=AuditAction.VIEW, obj=statement, patient_id=statement.patient_id,
        detail="pay link: wrong date of birth",
    )  # fmt: skip
    return False


def pay_page_fresh_link(*, statement: Statement) -> bool:
    """Send a fresh link to the payer's channel on file (never to an address typed in); False when it cannot
    go (voided, no text or email on file, or asked too often)."""
    value = f"fresh:{statement.pk}"
    if _count(value, timedelta(hours=1)) >= FRESH_LINKS_PER_HOUR:
        return False
    _record(value)
    try:
        statement_link_resend(statement=statement, actor=Actor.system("pay-page"))
    except ValidationError:
        return False
    return True


@dataclass(frozen=True)
class PayStart:
    redirect_url: str = ""
    problem: str = ""


def pay_page_instalment(statement: Statement, due: int) -> tuple[int | None, int]:
    """(the instalment id, its amount) when STATEMENT's patient has an active plan: what is left of the due
    instalment, never more than DUE; (None, 0) without a plan."""
    instalment = instalment_due(statement.patient_id)
    if instalment is None:
        return None, 0
    return instalment.pk, min(instalment.remaining_cents, due)


def pay_page_checkout(
    *, statement: Statement, actor: Actor, return_url: str, instalment: bool = False
) -> PayStart:
    """Start paying the balance due now on STATEMENT's account (or, INSTALMENT, the plan's instalment due)
    with the active provider (audited)."""
    if statement.state != StatementState.ISSUED:
        return PayStart(problem=_("This statement is no longer current."))
    due = statement_balance(statement).due
    if due <= 0:
        return PayStart(problem=_("Nothing is due now."))
    instalment_id: int | None = None
    if instalment:
        instalment_id, due = pay_page_instalment(statement, due)
        if instalment_id is None or due <= 0:
            return PayStart(problem=_("There is no payment plan instalment to pay now."))
    paid = Payment.objects.filter(patient_id=statement.patient_id).count()
    payer = statement.guarantor or statement.patient
    try:
        provider = active_provider()
        started = provider.checkout_start(
            Checkout(
                patient_id=statement.patient_id,
                amount_cents=due,
                currency=statement.currency,
                description=f"Statement {statement.number}" + (", plan instalment" if instalment_id else ""),
                success_url=f"{return_url}?paid=1",
                cancel_url=return_url,
                idempotency_key=f"statement-{statement.pk}-{due}-{paid}"
                + (f"-instalment-{instalment_id}" if instalment_id else ""),
                statement_id=statement.pk,
                instalment_id=instalment_id,
                payer_email=payer.email,
            )
        )
    except UnknownPlugin:
        return PayStart(problem=_("Online payment is not available now. Please call the clinic to pay."))
    except PaymentProviderError as error:
        return PayStart(problem=str(error) or _("The payment service did not answer. Please try again."))
    _event(statement, StatementEventKind.VIEWED, actor, detail=f"payment of {due} cents started")
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=statement, patient_id=statement.patient_id,
        detail=f"online payment of {due} cents started",
    )  # fmt: skip
    return PayStart(redirect_url=started.redirect_url)
