"""A statement's email: the text part is the message as stored; the HTML part says the same with the pay link
as a button, and the statement's PDF is attached (drawn here, in the worker that sends the email).

Registered with messaging in BillingConfig.ready (`register_email_parts("statement", ...)`), with the check
that keeps a voided or superseded statement's texts and emails from going (`register_subject_check`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.utils.html import escape, format_html

from careline.billing.models import Statement, StatementState
from careline.billing.services.statements import SUBJECT_PREFIX
from careline.messaging.email_parts import EmailAttachment, EmailParts

_LINK = re.compile(r"(https?://\S+)")


def _statement_id(message: Any) -> int | None:
    prefix, _, rest = (message.subject_key or "").partition(":")
    return int(rest) if prefix == SUBJECT_PREFIX and rest.isdigit() else None


def statement_email_html(body: str) -> str:
    """BODY (the text part) as HTML: paragraphs, the pay link as a link."""
    paragraphs = []
    for block in body.split("\n\n"):
        pieces: list[str] = []
        for index, piece in enumerate(_LINK.split(block)):
            if index % 2:
                pieces.append(format_html('<a href="{}" style="font-weight:bold">{}</a>', piece, piece))
            else:
                pieces.append(escape(piece).replace("\n", "<br>"))
        paragraphs.append(f"<p>{''.join(pieces)}</p>")
    return (
        '<!doctype html><html><body style="font-family:Arial,sans-serif;font-size:15px;line-height:1.4">'
        + "".join(paragraphs)
        + "</body></html>"
    )


def statement_email_parts(message: Any) -> EmailParts | None:
    """The HTML part, and for the statement's own email (not a link sent again) its PDF."""
    from careline.billing.statement_pdf import statement_pdf

    statement_id = _statement_id(message)
    if statement_id is None:
        return None
    statement = (
        Statement.objects.select_related("patient__primary_location", "guarantor")
        .filter(pk=statement_id)
        .first()
    )
    if statement is None:
        return None
    attachments: tuple[EmailAttachment, ...] = ()
    if (message.idempotency_key or "").endswith(":issued"):
        link = _LINK.search(message.body or "")
        data = statement_pdf(statement, pay_url=link.group(1) if link else None)
        attachments = (EmailAttachment(f"statement-{statement.number}.pdf", data, "application/pdf"),)
    return EmailParts(html=statement_email_html(message.body or ""), attachments=attachments)


def statement_messages_stale(messages: Sequence[Any]) -> dict[int, str]:
    """{message id: why} for texts and emails of statements voided or superseded since they were written
    (a fresh link for a superseded statement is written for the open one, so it is never caught here)."""
    ids = {m.pk: _statement_id(m) for m in messages}
    states = dict(Statement.objects.filter(pk__in={i for i in ids.values() if i}).values_list("pk", "state"))
    return {
        pk: f"statement {states.get(sid, 'gone')}"
        for pk, sid in ids.items()
        if sid is not None and states.get(sid) != StatementState.ISSUED
    }
