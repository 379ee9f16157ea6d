"""Statements: issued only from ready visits, lines that add up, superseding, delivery by preference with the
billing-consent fallback, texts without services, the email with its PDF, history and the timeline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings

from careline.billing.events import StatementIssued
from careline.billing.models import (
    ClaimStatus,
    Statement,
    StatementEventKind,
    StatementLine,
    StatementState,
)
from careline.billing.queries import patient_balance, statement_history, statement_totals
from careline.billing.services.payments import balance_adjust, payment_record
from careline.billing.services.statements import (
    statement_issue,
    statement_link_resend,
    statement_void,
)
from careline.billing.statement_pdf import statement_pdf, statements_batch_pdf
from careline.billing.tests.statement_support import billing_consent, issued, pdf_text, prefer
from careline.billing.tests.support import billing_actor, charge_on, owing, paid_claim, visit_of
from careline.core.events import Phase, subscribe, unsubscribe
from careline.core.models import AuditEntry
from careline.messaging.models import Message
from careline.messaging.outbound.dispatch import message_dispatch
from careline.patients.timeline import patient_timeline
from careline.testing.personas import Personas

# A weekday's afternoon at location A (texts are not held for quiet hours), after the visits of support.py.
NOW = datetime(2030, 3, 12, 19, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW), pytest.mark.usefixtures("clock")]


def test_a_statement_lists_only_visits_whose_claims_are_all_final(personas: Personas) -> None:
    ready = owing(personas, 2_500)
    waiting = visit_of(personas, days=1)
    charge = charge_on(personas, waiting, 9_000, code="99214")
    paid_claim(personas, waiting, charge, copay=1_000, status=ClaimStatus.PAID)
    from careline.billing.services.charges import claim_submit

    claim_submit(visit=waiting, payer="Second Health", member_id="S-2", actor=billing_actor(personas))
    statement = statement_issue(patient=personas.pat, actor=billing_actor(personas))
    visits = {line.visit_id for line in statement.lines.filter(kind="charge")}
    assert visits == {ready.pk}
    assert statement.amount_due_cents == 2_500


def test_nothing_ready_is_refused(personas: Personas) -> None:
    visit = visit_of(personas)
    charge_on(personas, visit, 5_000)
    with pytest.raises(ValidationError, match="Nothing is ready"):
        statement_issue(patient=personas.pat, actor=billing_actor(personas))
    assert not Statement.objects.exists()


def test_lines_snapshot_charges_insurance_payments_and_credits_and_sum_to_the_amount_due(
    personas: Personas,
) -> None:
    owing(personas, 4_000)
    payment_record(patient=personas.pat, amount_cents=1_000, method="cash", actor=billing_actor(personas))
    balance_adjust(
        patient=personas.pat,
        kind="credit",
        amount_cents=500,
        reason="Goodwill",
        actor=billing_actor(personas),
    )
    statement = statement_issue(patient=personas.pat, actor=billing_actor(personas))
    lines = list(statement.lines.all())
    assert sorted(line.kind for line in lines) == ["charge", "credit", "payment"]
    charge = next(line for line in lines if line.kind == "charge")
    assert (charge.charged_cents, charge.insurance_paid_cents, charge.insurance_adjusted_cents, charge.amount_cents) == (
        40_000, 28_000, 8_000, 4_000,
    )  # fmt: skip
    assert sum(line.amount_cents for line in lines) == statement.amount_due_cents == 2_500
    assert statement.amount_due_cents == patient_balance(personas.pat).due


def test_a_new_statement_supersedes_the_open_one(personas: Personas) -> None:
    first = issued(personas)
    second = statement_issue(patient=personas.pat, actor=billing_actor(personas))
    first.refresh_from_db()
    assert (first.state, second.state) == (StatementState.SUPERSEDED, StatementState.ISSUED)
    assert first.events.filter(kind=StatementEventKind.SUPERSEDED).exists()


def test_issuing_publishes_statement_issued_and_is_audited(personas: Personas) -> None:
    seen: list[StatementIssued] = []
    subscribe(StatementIssued, seen.append, phase=Phase.IN_TRANSACTION)
    try:
        statement = issued(personas)
    finally:
        unsubscribe(StatementIssued, seen.append, phase=Phase.IN_TRANSACTION)
    assert [(e.statement_id, e.amount_due_cents, e.payer_id) for e in seen] == [
        (statement.pk, 2_500, personas.pat.pk)
    ]
    assert AuditEntry.objects.filter(object_type="billing.statement", patient_id=personas.pat.pk).exists()


def test_a_text_goes_with_billing_consent_and_says_no_service_or_amount(personas: Personas) -> None:
    billing_consent(personas)
    statement = issued(personas)
    assert (statement.channel, statement.channel_reason) == ("sms", "")
    message = Message.objects.get(subject_key=f"statement:{statement.pk}")
    assert message.purpose == "billing" and message.sensitive
    assert message.body.startswith("Northside Clinic: you have a new statement. View and pay: http")
    assert "/pay/" in message.body
    for clinical in ("Office visit", "99213", "$25.00", "checkup"):
        assert clinical not in message.body


@override_settings(CARELINE_STATEMENT_TEXT_AMOUNT=True)
def test_the_amount_is_in_the_text_only_when_allowed(personas: Personas) -> None:
    billing_consent(personas)
    statement = issued(personas)
    message = Message.objects.get(subject_key=f"statement:{statement.pk}")
    assert "a new statement of $25.00" in message.body


def test_without_billing_consent_the_statement_goes_by_email_and_says_why(personas: Personas) -> None:
    statement = issued(personas)  # Pat agreed to texts, not to billing texts
    assert statement.channel == "email"
    assert "No consent on file for texts of this purpose" in statement.channel_reason
    assert not Message.objects.filter(
        subject_key=f"statement:{statement.pk}", channel__type_code="simulator"
    ).exists()
    message = Message.objects.get(subject_key=f"statement:{statement.pk}")
    assert message.to_address == "pat@example.test"


def test_without_consent_or_email_it_goes_by_mail_and_without_an_address_to_the_portal(
    personas: Personas,
) -> None:
    pat = personas.pat
    pat.email = ""
    pat.save()
    statement = issued(personas)
    assert statement.channel == "portal" and "no email or mailing address" in statement.channel_reason
    pat.address_line1, pat.city = "5 Elm St", "Chicago"
    pat.save()
    statement = statement_issue(patient=pat, actor=billing_actor(personas))
    assert statement.channel == "mail" and "sent by mail" in statement.channel_reason
    assert not Message.objects.filter(subject_key=f"statement:{statement.pk}").exists()


def test_billing_texts_are_refused_by_the_pipeline_without_billing_consent(personas: Personas) -> None:
    from careline.messaging.outbound.compose import message_send

    message = message_send(body="A bill", patient=personas.pat, kind="automated", purpose="billing")
    assert (message.state, message.suppression_reason) == ("suppressed", "no_purpose_consent")


def test_preferences_email_mail_and_portal_are_followed(personas: Personas) -> None:
    billing_consent(personas)
    owing(personas, 2_500)
    for channel in ("email", "portal", "mail"):
        prefer(personas, channel)
        pat = personas.pat
        pat.address_line1, pat.city = "5 Elm St", "Chicago"
        pat.save()
        statement = statement_issue(patient=pat, actor=billing_actor(personas))
        assert (statement.channel, statement.channel_reason) == (channel, "")


def test_the_email_has_text_and_html_parts_and_the_pdf_with_the_right_total(personas: Personas) -> None:
    prefer(personas, "email")
    statement = issued(personas)
    message = Message.objects.get(subject_key=f"statement:{statement.pk}")
    assert message_dispatch(message.pk) in ("sent", "delivered")
    sent = mail.outbox[-1]
    assert sent.subject == "Your statement from Northside Clinic"
    assert "Office visit" not in sent.body and "/pay/" in sent.body
    html, kind = sent.alternatives[0]  # type: ignore[attr-defined]
    assert kind == "text/html" and "/pay/" in html
    name, data, mimetype = sent.attachments[0]
    assert (name, mimetype) == (f"statement-{statement.number}.pdf", "application/pdf")
    text = pdf_text(data)
    assert "Amount due\n$25.00" in text or "Amount due $25.00" in text


def test_the_pdf_has_the_clinic_lines_totals_pay_link_and_remittance_stub(personas: Personas) -> None:
    owing(personas, 4_000)
    payment_record(patient=personas.pat, amount_cents=1_500, method="cash", actor=billing_actor(personas))
    statement = statement_issue(patient=personas.pat, actor=billing_actor(personas))
    text = pdf_text(statement_pdf(statement, pay_url="https://clinic.example.test/pay/abc/"))
    flat = " ".join(text.split())
    for expected in (
        "Northside Clinic", "1 Main St", "(312) 555-0100", statement.number, "99213 Office visit",
        "Total charges $400.00", "Insurance paid $280.00", "Insurance adjustments $80.00",
        "Your share after insurance $40.00", "Payments and credits $15.00", "Amount due $25.00",
        "https://clinic.example.test/pay/abc/", "Remittance", "Amount enclosed",
    ):  # fmt: skip
        assert expected in flat, expected


def test_the_days_mail_batch_is_one_pdf_with_a_page_run_per_statement(personas: Personas) -> None:
    first = issued(personas)
    second = issued(personas, 1_000, personas.quinn)
    data = statements_batch_pdf([first, second], title="batch")
    text = " ".join(pdf_text(data).split())
    assert first.number in text and second.number in text
    assert "Amount due $25.00" in text and "Importe a pagar $10.00" in text  # each in its payer's language


def test_a_spanish_payers_pdf_and_line_words_are_in_spanish(personas: Personas) -> None:
    from careline.billing.models import PaymentMethod
    from careline.billing.statement_document import LINE_WORDS, statement_document

    owing(personas, 4_000, personas.quinn)
    actor = billing_actor(personas)
    payment_record(patient=personas.quinn, amount_cents=1_500, method="cash", actor=actor)
    balance_adjust(patient=personas.quinn, kind="credit", amount_cents=500, reason="Goodwill", actor=actor)
    statement = statement_issue(patient=personas.quinn, actor=actor)
    flat = " ".join(pdf_text(statement_pdf(statement, pay_url="https://x.test/p/")).split())
    for expected in (
        "Estado de cuenta", "Cómo pagar", "Talón de pago", "Importe adjunto", "Total de cargos $400.00",
        "Pago (efectivo)", "Crédito", "Importe a pagar $20.00", "99213 Office visit",
    ):  # fmt: skip
        assert expected in flat, expected
    assert "Payment (cash)" not in flat and "How to pay" not in flat
    words = [row.description for row in statement_document(statement, pay_url="").rows]
    assert "Pago (efectivo)" in words and "Crédito" in words
    for method in PaymentMethod.labels:  # every word the ledger writes has its translation
        assert f"Payment ({str(method).lower()})" in LINE_WORDS


def test_void_withdraws_queued_texts_and_a_fresh_link_goes_to_the_channel_on_file(personas: Personas) -> None:
    billing_consent(personas)
    statement = issued(personas)
    message = statement_link_resend(statement=statement, actor=billing_actor(personas))
    assert message is not None and message.to_address == "+13125550111" and "fresh link" in message.body
    statement_void(statement=statement, reason="Issued in error", actor=billing_actor(personas))
    assert set(
        Message.objects.filter(subject_key=f"statement:{statement.pk}").values_list("state", flat=True)
    ) == {"cancelled"}
    with pytest.raises(ValidationError):
        statement_link_resend(statement=statement, actor=billing_actor(personas))
    with pytest.raises(ValidationError):
        statement_void(statement=statement, reason="again", actor=billing_actor(personas))


def test_history_and_timeline_show_issued_sent_and_delivery(personas: Personas, django_user_model) -> None:
    billing_consent(personas)
    statement = issued(personas)
    message = Message.objects.get(subject_key=f"statement:{statement.pk}")
    message_dispatch(message.pk)
    titles = [entry.title for entry in statement_history(statement)]
    assert titles[:2] == ["Issued", "Handed to its channel"]
    assert "Text sent" in titles or "Text delivered" in titles
    billing_entries = [e for e in patient_timeline(personas.pat, personas.billing_a) if e.kind == "statement"]
    assert billing_entries and statement.number in billing_entries[0].title
    assert not [e for e in patient_timeline(personas.pat, personas.front_a) if e.kind == "statement"]


def test_stored_totals_come_from_the_lines(personas: Personas) -> None:
    statement = issued(personas)
    totals = statement_totals(StatementLine.objects.filter(statement=statement))
    assert totals.amount_due == statement.amount_due_cents
