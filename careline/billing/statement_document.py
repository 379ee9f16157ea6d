"""The one source every rendering of a statement reads (the PDF, the email, the staff and pay pages).

`statement_document` gathers what a statement says: who sends it (the clinic's name, address and phone from
the patient's location), who pays it, its stored lines and their totals, and a pay link made now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import pgettext_lazy

from careline.billing.models import Statement, StatementLine
from careline.billing.money import format_money
from careline.billing.paylinks import pay_link_url
from careline.billing.queries import StatementTotals, statement_totals
from careline.core.languages import say, text_language
from careline.core.phones import format_phone
from careline.messaging.template_values import clinic_name_for
from careline.patients.models import Patient

# The words of the lines the ledger writes (payments, refunds, credits, write-offs: `statement_line_drafts_of`),
# stored in English in the snapshot and said in the payer's language when a statement is shown or drawn. A
# charge's description is the clinic's own text and is shown as it is.
LINE_WORDS = {
    "Payment (cash)": pgettext_lazy("statement line", "Payment (cash)"),
    "Payment (check)": pgettext_lazy("statement line", "Payment (check)"),
    "Payment (card terminal)": pgettext_lazy("statement line", "Payment (card terminal)"),
    "Payment (online)": pgettext_lazy("statement line", "Payment (online)"),
    "Refund": pgettext_lazy("statement line", "Refund"),
    "Credit": pgettext_lazy("statement line", "Credit"),
    "Write-off": pgettext_lazy("statement line", "Write-off"),
}


def line_words(line: Any, language: str | None) -> str:
    """LINE's description as the payer reads it: the ledger's own words in LANGUAGE, a charge's as it is."""
    if line.kind == "charge":
        return f"{line.service_code} {line.description}".strip() if line.service_code else line.description
    words = LINE_WORDS.get(line.description)
    return say(words, language) if words is not None else line.description


@dataclass(frozen=True)
class DocumentRow:
    """A statement line with its description in the payer's language."""

    line: StatementLine
    description: str
    patient_name: str = ""  # on a guarantor's combined statement: whose item it is


@dataclass(frozen=True)
class StatementDocument:
    statement: Statement
    clinic_name: str
    clinic_address: list[str]
    clinic_phone: str
    payer_name: str
    payer_address: list[str]
    patient_name: str
    account: str  # the patient's MRN, quoted on the remittance stub
    lines: list[StatementLine]
    totals: StatementTotals
    pay_url: str
    language: str = "en"  # the payer's, for the PDF's words and the ledger's line words
    # On a guarantor's combined statement: {patient id: name} of everyone it lists (empty otherwise).
    names: dict[int, str] = field(default_factory=dict)

    @property
    def rows(self) -> list[DocumentRow]:
        """The lines with their descriptions in the payer's language."""
        return [
            DocumentRow(line, line_words(line, self.language), self.names.get(line.patient_id or 0, ""))
            for line in self.lines
        ]

    def money(self, cents: int) -> str:
        return format_money(cents, self.statement.currency)


def _address(row: Any) -> list[str]:
    city = " ".join(
        part for part in (f"{row.city}," if row.city else "", row.region, row.postal_code) if part
    )
    return [line for line in (row.address_line1, row.address_line2, city.strip().rstrip(",")) if line]


def statement_document(statement: Statement, *, pay_url: str | None = None) -> StatementDocument:
    """What STATEMENT says, from its stored lines (two queries when the statement's rows are loaded)."""
    patient = statement.patient
    payer = statement.guarantor or patient
    location = patient.primary_location
    lines = list(StatementLine.objects.filter(statement=statement).order_by("position"))
    listed = {line.patient_id for line in lines if line.patient_id} | {patient.pk}
    names: dict[int, str] = {}
    if len(listed) > 1:
        names = {
            row.pk: f"{row.legal_first_name} {row.legal_last_name}"
            for row in Patient.objects.filter(pk__in=listed).only("legal_first_name", "legal_last_name")
        }
    return StatementDocument(
        statement=statement,
        clinic_name=clinic_name_for(location),
        clinic_address=_address(location) if location else [],
        clinic_phone=format_phone(location.phone) if location and location.phone else "",
        payer_name=f"{payer.legal_first_name} {payer.legal_last_name}",
        payer_address=_address(payer),
        patient_name=f"{patient.legal_first_name} {patient.legal_last_name}",
        account=patient.mrn,
        lines=lines,
        totals=statement_totals(lines),
        pay_url=pay_url if pay_url is not None else pay_link_url(statement),
        language=text_language(payer.language),
        names=names,
    )
