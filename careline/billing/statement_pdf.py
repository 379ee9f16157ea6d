"""Statements as PDF (ReportLab): one statement for print, email and download, or a day's mailed statements as
one file for the print shop. Drawn from `statement_document`, in the worker that sends the email.

Each statement: the clinic's name, address and phone; the payer's address (for a window envelope); the
statement's number, date and due date; the lines (visits' charges with what insurance paid and adjusted and
the patient's share, payments, refunds, credits); the totals; how to pay (online by the pay link and its QR
code, by phone, by mail); and a remittance stub to return with a check.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from xml.sax.saxutils import escape

import segno
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import HRFlowable

from careline.billing.models import Statement
from careline.billing.statement_document import StatementDocument, statement_document

_STYLES = getSampleStyleSheet()
BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontSize=9, leading=11)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=9)
TITLE = ParagraphStyle("title", parent=_STYLES["Heading1"], fontSize=16, leading=19, spaceAfter=4)
HEAD = ParagraphStyle(
    "head", parent=_STYLES["Heading3"], fontSize=10, leading=12, spaceBefore=6, spaceAfter=3
)


class QrCode(Flowable):
    """A QR code of a URL, drawn as squares (segno makes the matrix; no image file)."""

    def __init__(self, data: str, size: float = 1.1 * inch) -> None:
        super().__init__()
        self.matrix = [list(row) for row in segno.make(data, error="m").matrix_iter(border=2)]
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        count = len(self.matrix)
        cell = self.size / count
        self.canv.setFillColor(colors.black)
        for y, row in enumerate(self.matrix):
            for x, dark in enumerate(row):
                if dark:
                    self.canv.rect(x * cell, self.size - (y + 1) * cell, cell, cell, stroke=0, fill=1)


def _bold(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(f"<b>{escape(text)}</b>", style)


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text), style)


def _lines_table(doc: StatementDocument) -> Table:
    money = doc.money
    rows: list[list[object]] = [
        [_("Date"), _("Description"), _("Charged"), _("Insurance paid"), _("Adjusted"), _("You owe")]
    ]
    for row in doc.rows:
        line = row.line
        described = _p(row.description)
        if row.patient_name:  # a guarantor's combined statement: whose item it is
            described = Paragraph(f"<b>{escape(row.patient_name)}</b><br/>{escape(row.description)}", BODY)
        if line.kind == "charge":
            rows.append(
                [
                    line.line_date.isoformat(),
                    described,
                    money(line.charged_cents),
                    money(line.insurance_paid_cents),
                    money(line.insurance_adjusted_cents),
                    money(line.amount_cents),
                ]
            )
        else:
            rows.append([line.line_date.isoformat(), described, "", "", "", money(line.amount_cents)])
    table = Table(
        rows,
        colWidths=[0.85 * inch, 2.55 * inch, 0.9 * inch, 1.0 * inch, 0.85 * inch, 0.9 * inch],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f4f7")]),
            ]
        )
    )
    return table


def _totals_table(doc: StatementDocument) -> Table:
    t, money = doc.totals, doc.money
    rows = [
        [_("Total charges"), money(t.charged)],
        [_("Insurance paid"), money(t.insurance_paid)],
        [_("Insurance adjustments"), money(t.insurance_adjusted)],
        [_("Your share after insurance"), money(t.patient_share)],
        [_("Payments and credits"), money(t.payments_and_credits)],
        [_("Amount due"), money(t.amount_due)],
    ]
    if t.credit:
        rows.append([pgettext("statement pdf", "In credit"), money(t.credit)])
    table = Table(rows, colWidths=[2.2 * inch, 1.1 * inch], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
                ("FONT", (0, 5), (-1, 5), "Helvetica-Bold", 11),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("LINEABOVE", (0, 5), (-1, 5), 0.8, colors.black),
            ]
        )
    )
    return table


def _stub(doc: StatementDocument) -> list[Flowable]:
    s, money = doc.statement, doc.money
    remit = "<br/>".join(escape(line) for line in [doc.clinic_name, *doc.clinic_address])
    rows = [
        [
            _p(pgettext("statement pdf", "Statement")),
            _p(s.number),
            Paragraph(
                "<b>" + escape(pgettext("statement pdf", "Make checks payable to")) + f"</b><br/>{remit}",
                BODY,
            ),
        ],
        [_p(pgettext("statement pdf", "Account")), _p(doc.account), ""],
        [_p(pgettext("statement pdf", "Patient")), _p(doc.patient_name), ""],
        [_p(_("Due by")), _p(s.due_date.isoformat()), ""],
        [_p(_("Amount due")), Paragraph(f"<b>{escape(money(s.amount_due_cents))}</b>", BODY), ""],
        [_p(pgettext("statement pdf", "Amount enclosed")), _p("$ ______________"), ""],
    ]
    table = Table(rows, colWidths=[1.2 * inch, 1.8 * inch, 3.9 * inch])
    table.setStyle(TableStyle([("SPAN", (2, 0), (2, -1)), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    detach = pgettext("statement pdf", "Detach and return this part with your payment")
    return [
        CondPageBreak(2.4 * inch),
        Spacer(1, 8),
        _p(
            f"✂ - - - - - - - - - {detach} - - - - - - - - -",
            SMALL,
        ),
        HRFlowable(width="100%", dash=[2, 2], thickness=0.5),
        _bold(pgettext("statement pdf", "Remittance"), HEAD),
        table,
    ]


def statement_story(doc: StatementDocument) -> list[Flowable]:
    """The flowables of one statement (the PDF of one, or a page run of the day's batch), in the payer's
    language."""
    with translation.override(doc.language):
        return _story(doc)


def _story(doc: StatementDocument) -> list[Flowable]:
    s = doc.statement
    phone = pgettext("statement pdf", "Phone") + f" {doc.clinic_phone}" if doc.clinic_phone else ""
    clinic = "<br/>".join(escape(line) for line in [*doc.clinic_address, phone] if line)
    payer = "<br/>".join(escape(line) for line in [doc.payer_name, *doc.payer_address])
    header = Table(
        [
            [
                [Paragraph(f"<b>{escape(doc.clinic_name)}</b>", TITLE), Paragraph(clinic, BODY)],
                [
                    _bold(pgettext("statement pdf", "Statement"), TITLE),
                    _p(pgettext("statement pdf", "Number") + f" {s.number}"),
                    _p(f"{_('Date')} {s.statement_date.isoformat()}"),
                    _p(f"{_('Due by')} {s.due_date.isoformat()}"),
                    _p(pgettext("statement pdf", "Account") + f" {doc.account}"),
                ],
            ]
        ],
        colWidths=[4.3 * inch, 2.6 * inch],
    )
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    how_to_pay = Table(
        [
            [
                [
                    _bold(pgettext("statement pdf", "How to pay"), HEAD),
                    _p(pgettext("statement pdf", "Online:") + f" {doc.pay_url}"),
                    _p(
                        pgettext(
                            "statement pdf",
                            "Scan the code or open the link; the page asks for the date of birth first.",
                        )
                    ),
                    _p(
                        pgettext("statement pdf", "By phone:") + f" {doc.clinic_phone}"
                        if doc.clinic_phone
                        else pgettext("statement pdf", "By phone: call the clinic.")
                    ),
                    _p(pgettext("statement pdf", "By mail: send a check with the remittance part below.")),
                ],
                QrCode(doc.pay_url),
            ]
        ],
        colWidths=[5.6 * inch, 1.3 * inch],
    )
    how_to_pay.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [
        header,
        Spacer(1, 10),
        Paragraph(payer, BODY),
        Spacer(1, 6),
        _p(pgettext("statement pdf", "Patient:") + f" {doc.patient_name}"),
        _bold(pgettext("statement pdf", "Your account"), HEAD),
        _lines_table(doc),
        Spacer(1, 6),
        _totals_table(doc),
        how_to_pay,
        *_stub(doc),
    ]


def _build(stories: Iterable[list[Flowable]], title: str) -> bytes:
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        title=title,
        author="Careline",
        leftMargin=0.7 * inch,
        rightMargin=0.7 * inch,
        topMargin=0.6 * inch,
        bottomMargin=0.6 * inch,
    )
    flowables: list[Flowable] = []
    for index, story in enumerate(stories):
        if index:
            flowables.append(PageBreak())
        flowables += story
    if not flowables:
        flowables = [_p("No statements.")]
    pdf.build(flowables)
    return buffer.getvalue()


def statement_pdf(statement: Statement, *, pay_url: str | None = None) -> bytes:
    """STATEMENT as a PDF."""
    return _build([statement_story(statement_document(statement, pay_url=pay_url))], title=statement.number)


def statements_batch_pdf(statements: Iterable[Statement], *, title: str) -> bytes:
    """STATEMENTS one after another in one PDF, each starting on a new page (the day's mail batch)."""
    return _build((statement_story(statement_document(s)) for s in statements), title=title)
