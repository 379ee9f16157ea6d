"""The one source every rendering of a statement reads (the PDF, the email, the staff and pay pages).

`statement_document` gathers what a statement says: who sends it (the clinic's name, address and phone from
the patient's location), who pays it, its stored lines and their totals, and a pay link made now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from careline.billing.models import Statement, StatementLine
from careline.billing.money import format_money
from careline.billing.paylinks import pay_link_url
from careline.billing.queries import StatementTotals, statement_totals
from careline.core.phones import format_phone
from careline.messaging.template_values import clinic_name_for


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
    )
