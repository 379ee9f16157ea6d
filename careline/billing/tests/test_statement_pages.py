"""The staff's statement pages: who may preview, issue, read, download, void and re-send; the mail batch;
the channel's reason shown; audit entries; and no 500 on bad input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from careline.billing.models import Statement
from careline.billing.tests.statement_support import issued, pdf_text
from careline.billing.tests.support import owing
from careline.core.models import AuditEntry
from careline.testing.personas import Personas

NOW = datetime(2030, 3, 12, 19, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW), pytest.mark.usefixtures("clock")]

Clients = Callable[[Any], Client]
ROLES = ("admin", "front_a", "clinician_a", "billing_a", "front_b", None)
BILLING_ONLY = {
    "admin": True,
    "front_a": False,
    "clinician_a": False,
    "billing_a": True,
    "front_b": False,
    None: False,
}


def _allowed(response: Any) -> bool:
    refused = response.status_code in (403, 404, 405) or (
        response.status_code == 302 and "/accounts/login" in response["Location"]
    )
    return not refused


def _outcomes(
    personas: Personas, client_for: Clients, send: Callable[[Client], Any]
) -> dict[str | None, bool]:
    return {
        role: _allowed(send(client_for(None if role is None else getattr(personas, role)))) for role in ROLES
    }


def test_reading_statements_is_for_billing_staff_of_the_patients_location(
    personas: Personas, client_for: Clients
) -> None:
    statement = issued(personas)
    for url in (
        reverse("billing:statement", args=[statement.pk]),
        reverse("billing:statement_pdf", args=[statement.pk]),
    ):
        assert _outcomes(personas, client_for, lambda c: c.get(url)) == BILLING_ONLY, url  # noqa: B023
    preview = reverse("billing:statement_issue", args=[personas.pat.pk])
    assert _outcomes(personas, client_for, lambda c: c.get(preview)) == BILLING_ONLY
    batch = reverse("billing:mail_batch")
    assert _outcomes(personas, client_for, lambda c: c.get(batch)) == {**BILLING_ONLY}


def test_issue_void_and_resend_are_for_billing_staff(personas: Personas, client_for: Clients) -> None:
    owing(personas, 2_500)
    preview = reverse("billing:statement_issue", args=[personas.pat.pk])
    assert _outcomes(personas, client_for, lambda c: c.post(preview, {"due_in_days": "30"})) == BILLING_ONLY
    assert Statement.objects.count() == 2  # admin's, then billing's
    statement = Statement.objects.order_by("-pk").first()
    assert statement is not None
    resend = reverse("billing:statement_resend", args=[statement.pk])
    void = reverse("billing:statement_void", args=[statement.pk])
    assert _outcomes(personas, client_for, lambda c: c.post(resend)) == BILLING_ONLY
    assert _outcomes(personas, client_for, lambda c: c.post(void, {"reason": "Error"})) == BILLING_ONLY
    for url in (resend, void):
        assert client_for(personas.admin).get(url).status_code == 405


def test_the_statement_page_shows_lines_totals_the_channel_reason_and_history(
    personas: Personas, client_for: Clients
) -> None:
    statement = issued(personas)
    before = AuditEntry.objects.count()
    page = (
        client_for(personas.billing_a).get(reverse("billing:statement", args=[statement.pk])).content.decode()
    )
    assert statement.number in page and "Office visit" in page and "$25.00" in page
    assert "No consent on file for texts of this purpose" in page  # why it went by email
    assert "Issued" in page and "Handed to its channel" in page
    assert AuditEntry.objects.filter(
        pk__gt=before, patient_id=personas.pat.pk, object_type="billing.statement"
    ).exists()
    ledger = (
        client_for(personas.billing_a).get(reverse("billing:ledger", args=[personas.pat.pk])).content.decode()
    )
    assert statement.number in ledger and "sent by email instead" in ledger


def test_the_pdf_download_has_the_total(personas: Personas, client_for: Clients) -> None:
    statement = issued(personas)
    response = client_for(personas.billing_a).get(reverse("billing:statement_pdf", args=[statement.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert "Amount due $25.00" in " ".join(pdf_text(response.content).split())


def test_issuing_from_the_preview_and_bad_input(personas: Personas, client_for: Clients) -> None:
    client = client_for(personas.billing_a)
    url = reverse("billing:statement_issue", args=[personas.pat.pk])
    nothing = client.post(url, {"due_in_days": "30"})
    assert nothing.status_code == 400 and "Nothing is ready" in nothing.content.decode()
    owing(personas, 2_500)
    preview = client.get(url).content.decode()
    assert "$25.00" in preview and "Email" in preview
    for body, message in (
        ({"due_in_days": "0"}, "greater than or equal to 1"),
        ({"due_in_days": "x"}, "Enter a whole number"),
    ):
        response = client.post(url, body)
        assert response.status_code == 400 and message in response.content.decode(), body
    assert not Statement.objects.exists()
    done = client.post(url, {"due_in_days": "20"})
    statement = Statement.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("billing:statement", args=[statement.pk])
    assert (statement.due_date - statement.statement_date).days == 20


def test_void_needs_a_reason_and_the_page_says_so(personas: Personas, client_for: Clients) -> None:
    statement = issued(personas)
    client = client_for(personas.billing_a)
    url = reverse("billing:statement_void", args=[statement.pk])
    client.post(url, {"reason": ""})
    statement.refresh_from_db()
    assert statement.state == "issued"
    client.post(url, {"reason": "Wrong visit"})
    statement.refresh_from_db()
    assert statement.state == "voided"
    again = client.post(url, {"reason": "Again"}, follow=True)
    assert "already voided" in again.content.decode()


def test_the_mail_batch_lists_and_downloads_the_days_mailed_statements_of_the_users_patients(
    personas: Personas, client_for: Clients
) -> None:
    for patient in (personas.pat, personas.quinn):
        patient.email, patient.address_line1, patient.city = "", "5 Elm St", "Chicago"
        patient.save()
    mine = issued(personas)
    theirs = issued(personas, 1_000, personas.quinn)
    assert (mine.channel, theirs.channel) == ("mail", "mail")
    client = client_for(personas.billing_a)
    url = reverse("billing:mail_batch")
    page = client.get(url, {"day": mine.statement_date.isoformat()}).content.decode()
    assert mine.number in page and theirs.number not in page  # location B's patient is not billing_a's
    pdf = client.get(url, {"day": mine.statement_date.isoformat(), "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and mine.number in pdf_text(pdf.content)
    assert client.get(url, {"day": "not-a-day"}).status_code == 400
    assert client.get(url, {"day": "2001-01-01", "format": "pdf"}).status_code == 404
