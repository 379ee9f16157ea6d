"""What statement texts and emails say to the payer: that a statement is ready and its pay link; never a
service, a diagnosis or a visit's type. The amount only when CARELINE_STATEMENT_TEXT_AMOUNT allows it.

Rendered by the one safe renderer (`template_render`, TemplateKind.STATEMENT) with allow-listed fields."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

STATEMENT_TEXT = pgettext_lazy(
    "statement text", "{clinic_name}: you have a new statement. View and pay: {link}"
)
STATEMENT_TEXT_WITH_AMOUNT = pgettext_lazy(
    "statement text", "{clinic_name}: you have a new statement of {amount}. View and pay: {link}"
)
PAY_LINK_TEXT = pgettext_lazy(
    "statement link sent again", "{clinic_name}: here is a fresh link to view and pay your statement: {link}"
)
STATEMENT_EMAIL_SUBJECT = pgettext_lazy("statement email subject", "Your statement from {clinic_name}")
PAY_LINK_EMAIL_SUBJECT = pgettext_lazy(
    "statement link email subject", "Your link to view and pay your statement"
)
STATEMENT_EMAIL_BODY = pgettext_lazy(
    "statement email body",
    "Hello {first_name},\n\nYou have a new statement from {clinic_name}. It is attached to this email as a PDF."
    "\n\nView and pay online: {link}\n(The page asks for your date of birth first.)\n\nQuestions about your "
    "bill? Call us at {location_phone}.",
)
PAY_LINK_EMAIL_BODY = pgettext_lazy(
    "statement link email body",
    "Hello {first_name},\n\nHere is a fresh link to view and pay your statement from {clinic_name}: {link}\n"
    "(The page asks for your date of birth first.)\n\nQuestions about your bill? Call us at {location_phone}.",
)
