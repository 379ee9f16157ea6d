"""What billing texts and emails say to patients: amounts are fine, services and diagnoses never."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

# Rendered by the safe renderer (TemplateKind.BILLING) with {clinic_name} and {amount}.
RECEIPT_TEXT = pgettext_lazy(
    "payment receipt text", "{clinic_name}: we received your payment of {amount}. Thank you."
)
RECEIPT_SUBJECT = pgettext_lazy("payment receipt email subject", "Your payment receipt {number}")
RECEIPT_NUMBER_LINE = pgettext_lazy("payment receipt email", "Receipt number: {number}")
