"""Receipts: after every recorded payment (at the desk or online), a receipt to the payer by their billing channel.

Sent through `message_send` with the billing purpose, so consent, opt-outs and quiet hours apply like every
billing text: a payer whose billing preference is text but who has not consented to billing texts gets the
receipt by email when there is an address (else the text is recorded as suppressed, with its reason). A payer
who chose mail gets no text or email; the desk prints the receipt page. Keyed on the payment, so a repeated
event sends one receipt.
"""

from __future__ import annotations

import logging
from typing import Any

from careline.billing.events import PaymentRecorded
from careline.billing.models import Payment, PaymentCheckout
from careline.billing.money import format_money
from careline.billing.texts import RECEIPT_NUMBER_LINE, RECEIPT_SUBJECT, RECEIPT_TEXT
from careline.core.languages import say, text_language
from careline.patients.models import ContactPreference, Patient, Purpose

logger = logging.getLogger(__name__)


def receipt_number(payment: Payment) -> str:
    """The receipt's number, printed and emailed ("R-000123")."""
    return f"R-{payment.pk:06d}"


def receipt_payer(payment: Payment) -> Patient:
    """Who paid: the payer of the statement paid online (its guarantor, or the guarantor whose combined
    statement it is), else the patient."""
    checkout = (
        PaymentCheckout.objects.filter(payment=payment, statement__isnull=False)
        .select_related("statement__guarantor__primary_location", "statement__patient__primary_location")
        .first()
    )
    if checkout is not None and checkout.statement is not None:
        return checkout.statement.guarantor or checkout.statement.patient
    return Patient.objects.select_related("primary_location").get(pk=payment.patient_id)


def receipt_amount(payment: Payment) -> int:
    """What the payer paid: PAYMENT, with the parts it was split into on a guarantor's dependants' accounts."""
    if not payment.provider_reference:
        return payment.amount_cents
    parts = Payment.objects.filter(
        provider=payment.provider, provider_reference__startswith=f"{payment.provider_reference}/"
    ).values_list("amount_cents", flat=True)
    return payment.amount_cents + sum(parts)


def receipt_channel(payer: Patient) -> Any:
    """The channel a receipt to PAYER goes by (None: by mail, i.e. printed at the desk)."""
    from careline.messaging.outbound.policy import patient_sms_number
    from careline.messaging.services.channels import channel_default
    from careline.patients.services.registry import consent_purpose_given

    preference = (
        ContactPreference.objects.filter(patient=payer, purpose=Purpose.BILLING)
        .values_list("channel", flat=True)
        .first()
    )
    if preference == "phone":
        return None  # nothing to text or email; the desk prints the receipt page
    if preference in ("email", "portal") and payer.email:
        return channel_default("email") or channel_default("sms")
    if preference is None or preference in ("sms", "portal"):
        number = patient_sms_number(payer)
        consented = bool(number) and number in consent_purpose_given([number or ""], Purpose.BILLING)
        if not consented and payer.email:
            return channel_default("email") or channel_default("sms")
        return channel_default("sms")
    # "mail" (and anything else): a paper receipt, printed from the receipt page.
    return None


def receipt_send(payment_id: int) -> None:
    """Send the receipt of payment PAYMENT_ID to its payer (once); nothing when the payer chose mail."""
    from careline.messaging.models import MessageKind
    from careline.messaging.outbound.compose import MessageRefused, message_send
    from careline.messaging.template_values import patient_values
    from careline.messaging.templating import TemplateKind, template_render

    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None or "/" in payment.provider_reference:
        return  # a part of a guarantor's payment: the receipt of its first part covers it
    payer = receipt_payer(payment)
    channel = receipt_channel(payer)
    if channel is None:
        logger.info("receipt of payment %s: the payer's billing channel is mail or phone", payment_id)
        return
    language = text_language(payer.language)
    values = patient_values(patient=payer, location=None)
    values["amount"] = format_money(receipt_amount(payment), payment.currency)
    body = template_render(say(RECEIPT_TEXT, language), values, kind=TemplateKind.BILLING)
    number = receipt_number(payment)
    extra: dict[str, Any] = {}
    if "email" in channel.type.capabilities:
        extra["subject"] = say(RECEIPT_SUBJECT, language, number=number)
        body = f"{body}\n\n{say(RECEIPT_NUMBER_LINE, language, number=number)}"
    try:
        message_send(
            body=body,
            patient=payer,
            channel=channel,
            kind=MessageKind.AUTOMATED,
            purpose=Purpose.BILLING,
            idempotency_key=f"receipt:{payment.pk}",
            subject_key=f"payment:{payment.pk}",
            **extra,
        )
    except MessageRefused as refused:
        logger.warning("receipt of payment %s refused: %s", payment_id, refused)


def receipt_on_payment_recorded(event: PaymentRecorded) -> None:
    """After a payment is committed: its receipt (subscribed in BillingConfig.ready)."""
    receipt_send(event.payment_id)
