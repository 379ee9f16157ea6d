"""Standing guarantors: set with a start date and history (billing staff, audited); a dependant's items go on
the guarantor's combined statement (labelled by patient), sent by the guarantor's preference and consent,
shown in the guarantor's portal, paid once and split over the accounts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from careline.billing.models import GuarantorLink, Payment, Statement, StatementLine, StatementState
from careline.billing.providers import Checkout
from careline.billing.queries import patient_balance, statement_balance
from careline.billing.services.checkouts import checkout_open, checkout_paid
from careline.billing.services.guarantors import guarantor_end, guarantor_of, guarantor_set
from careline.billing.services.statements import statement_issue
from careline.billing.statement_pdf import statement_pdf
from careline.billing.tests.statement_support import billing_consent, pdf_text
from careline.billing.tests.support import billing_actor, owing
from careline.core.models import AuditEntry
from careline.messaging.models import Message
from careline.patients.models import Patient
from careline.testing.personas import Personas, sign_in
from careline.testing.portal import portal_account_for, portal_sign_in

NOW = datetime(2030, 3, 12, 19, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW), pytest.mark.usefixtures("clock")]


def _kit(personas: Personas) -> Patient:
    """Pat's child, with no phone or email of their own."""
    return Patient.objects.create(
        mrn="MRN-KIT-3", legal_first_name="Kit", legal_last_name="Ortega", date_of_birth=date(2018, 6, 1),
        primary_location=personas.location_a,
    )  # fmt: skip


def _pat_pays_for_kit(personas: Personas) -> Patient:
    kit = _kit(personas)
    guarantor_set(
        patient=kit, guarantor=personas.pat, starts_on=date(2030, 1, 1), relationship="parent",
        actor=billing_actor(personas),
    )  # fmt: skip
    return kit


def test_a_guarantor_is_set_with_its_start_and_history_and_audited(personas: Personas) -> None:
    kit = _pat_pays_for_kit(personas)
    assert guarantor_of(kit.pk) == personas.pat
    assert AuditEntry.objects.filter(
        patient_id=kit.pk, detail__startswith="guarantor from 2030-01-01"
    ).exists()
    guarantor_end(patient=kit, ends_on=date(2030, 3, 1), actor=billing_actor(personas))
    assert guarantor_of(kit.pk) is None
    guarantor_set(
        patient=kit,
        guarantor=personas.pat,
        starts_on=date(2030, 3, 5),
        relationship="",
        actor=billing_actor(personas),
    )
    history = list(
        GuarantorLink.objects.filter(patient=kit).order_by("starts_on").values_list("starts_on", "ends_on")
    )
    assert history == [(date(2030, 1, 1), date(2030, 3, 1)), (date(2030, 3, 5), None)]


@pytest.mark.parametrize("case", ["self", "chain", "dependant_pays", "again", "earlier"])
def test_guarantor_rules_refuse_and_change_nothing(personas: Personas, case: str) -> None:
    kit = _pat_pays_for_kit(personas)
    actor = billing_actor(personas)
    other = Patient.objects.create(
        mrn="MRN-LEE-4", legal_first_name="Lee", legal_last_name="Ortega", date_of_birth=date(2019, 1, 1),
        primary_location=personas.location_a,
    )  # fmt: skip
    calls = {
        "self": lambda: guarantor_set(patient=kit, guarantor=kit, starts_on=date(2030, 3, 1), relationship="", actor=actor),
        "chain": lambda: guarantor_set(patient=other, guarantor=kit, starts_on=date(2030, 3, 1), relationship="", actor=actor),
        "dependant_pays": lambda: guarantor_set(
            patient=personas.pat, guarantor=other, starts_on=date(2030, 3, 1), relationship="", actor=actor
        ),
        "again": lambda: guarantor_set(patient=kit, guarantor=personas.pat, starts_on=date(2030, 3, 1), relationship="", actor=actor),
        "earlier": lambda: guarantor_set(patient=kit, guarantor=other, starts_on=date(2029, 1, 1), relationship="", actor=actor),
    }  # fmt: skip
    before = list(GuarantorLink.objects.values_list("pk", "ends_on"))
    with pytest.raises(ValidationError):
        calls[case]()
    assert list(GuarantorLink.objects.values_list("pk", "ends_on")) == before


def _combined(personas: Personas) -> tuple[Patient, Statement]:
    kit = _pat_pays_for_kit(personas)
    billing_consent(personas)
    owing(personas, 2_500)
    owing(personas, 1_000, kit)
    return kit, statement_issue(patient=kit, actor=billing_actor(personas))


def test_a_dependants_statement_is_the_guarantors_combined_one_sent_by_the_guarantors_preference(
    personas: Personas,
) -> None:
    kit, statement = _combined(personas)
    assert statement.patient == personas.pat and statement.amount_due_cents == 3_500
    assert set(StatementLine.objects.filter(statement=statement).values_list("patient_id", flat=True)) == {
        personas.pat.pk,
        kit.pk,
    }
    assert statement.channel == "sms"  # Pat's billing consent: the text goes to Pat's number
    text = Message.objects.get(subject_key=f"statement:{statement.pk}")
    assert text.patient_id == personas.pat.pk and text.to_address == "+13125550111"
    flat = " ".join(pdf_text(statement_pdf(statement, pay_url="https://x.test/p/")).split())
    assert "Kit Ortega" in flat and "Patricia Ortega" in flat and "Amount due $35.00" in flat
    assert AuditEntry.objects.filter(
        patient_id=kit.pk, detail__contains="lists this patient's items"
    ).exists()
    # issuing again from the guarantor's side supersedes it with the same combined statement
    again = statement_issue(patient=personas.pat, actor=billing_actor(personas))
    statement.refresh_from_db()
    assert statement.state == StatementState.SUPERSEDED and again.amount_due_cents == 3_500


def test_the_guarantors_portal_shows_the_combined_statement_not_the_dependants_records(
    personas: Personas,
) -> None:
    kit, statement = _combined(personas)
    client = portal_sign_in(Client(), portal_account_for(personas.pat))
    tab = client.get(reverse("portal:billing")).content.decode()
    assert statement.number in tab and "$35.00" in tab
    page = client.get(reverse("portal:statement", args=[statement.pk])).content.decode()
    assert "Kit Ortega" in page and "Pay $35.00" in page
    own = Statement.objects.create(
        patient=kit, statement_date=date(2030, 3, 1), due_date=date(2030, 3, 31), amount_due_cents=1,
        channel="portal", issued_at=NOW,
    )  # fmt: skip
    assert client.get(reverse("portal:statement", args=[own.pk])).status_code == 404


def test_paying_the_combined_statement_once_settles_every_account_it_lists(
    personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    kit, statement = _combined(personas)
    assert statement_balance(statement).due == 3_500
    row, _ = checkout_open(
        checkout=Checkout(
            patient_id=personas.pat.pk, amount_cents=3_500, currency="USD", description="Statement",
            success_url="https://x.test/ok", cancel_url="", idempotency_key="k1", statement_id=statement.pk,
        ),
        provider="test",
    )  # fmt: skip
    for _ in range(2):  # the provider's event delivered twice records one payment
        with django_capture_on_commit_callbacks(execute=True):
            checkout_paid(
                provider="test", reference=row.reference, payment_reference="pi_1", amount_cents=3_500
            )
    assert patient_balance(personas.pat).due == 0 and patient_balance(kit).due == 0
    parts = sorted(Payment.objects.values_list("patient_id", "amount_cents", "provider_reference"))
    assert parts == sorted([(personas.pat.pk, 2_500, "pi_1"), (kit.pk, 1_000, f"pi_1/{kit.pk}")])
    receipts = Message.objects.filter(idempotency_key__startswith="receipt:")
    assert [(m.patient_id, "$35.00" in m.body) for m in receipts] == [(personas.pat.pk, True)]


def test_the_guarantor_page_sets_and_ends_with_history(personas: Personas) -> None:
    kit = _kit(personas)
    client = sign_in(Client(), personas.billing_a)
    url = reverse("billing:guarantor", args=[kit.pk])
    assert "No guarantor has been recorded" in client.get(url).content.decode()
    bad = client.post(url, {"set-action": "set", "set-guarantor_mrn": "NOPE", "set-on": "2030-03-01"})
    assert bad.status_code == 400 and "No patient you may see has that MRN" in bad.content.decode()
    other_location = client.post(
        url, {"set-action": "set", "set-guarantor_mrn": "MRN-QUINN-2", "set-on": "2030-03-01"}
    )
    assert other_location.status_code == 400 and "No patient you may see" in other_location.content.decode()
    no_mrn = client.post(url, {"set-action": "set", "set-on": "2030-03-01"})
    assert no_mrn.status_code == 400 and "Give the guarantor" in no_mrn.content.decode()
    assert not GuarantorLink.objects.exists()
    done = client.post(
        url,
        {
            "set-action": "set",
            "set-guarantor_mrn": "mrn-pat-1",
            "set-on": "2030-03-01",
            "set-relationship": "parent",
        },
    )
    assert done.status_code == 302 and guarantor_of(kit.pk) == personas.pat
    ledger = client.get(reverse("billing:ledger", args=[kit.pk])).content.decode()
    assert "(guarantor)" in ledger and "Bills paid by" in ledger
    assert client.post(url, {"end-action": "end", "end-on": "2030-03-10"}).status_code == 302
    page = client.get(url).content.decode()
    assert "2030-03-01" in page and "2030-03-10" in page and guarantor_of(kit.pk) is None


@pytest.mark.parametrize(("who", "get", "post"), [
    ("admin", 200, 302), ("billing_a", 200, 302), ("front_a", 403, 403), ("clinician_a", 403, 403),
    ("front_b", 403, 403),
])  # fmt: skip
def test_guarantor_page_access_per_role(personas: Personas, who: str, get: int, post: int) -> None:
    kit = _kit(personas)
    client = sign_in(Client(), getattr(personas, who))
    url = reverse("billing:guarantor", args=[kit.pk])
    assert client.get(url).status_code == get
    body = {"set-action": "set", "set-guarantor_mrn": "MRN-PAT-1", "set-on": "2030-03-01"}
    assert client.post(url, body).status_code == post
    assert GuarantorLink.objects.exists() == (post == 302)


def test_an_outsider_is_sent_to_sign_in(personas: Personas) -> None:
    kit = _kit(personas)
    response = Client().post(
        reverse("billing:guarantor", args=[kit.pk]),
        {"set-action": "set", "set-guarantor_mrn": "MRN-PAT-1", "set-on": "2030-03-01"},
    )
    assert (response.status_code == 302 and "/accounts/" in response["Location"]) or "login" in response[
        "Location"
    ]
    assert not GuarantorLink.objects.exists()


@pytest.mark.parametrize("size", [500, 1])  # one chunk, or the family split over chunks
def test_a_statement_run_issues_the_guarantors_combined_statement_once(personas: Personas, size: int) -> None:
    from careline.billing.tests.run_support import RUN_DAY, waiting_run, work

    kit = _pat_pays_for_kit(personas)
    billing_consent(personas)
    owing(personas, 2_500)
    owing(personas, 1_000, kit)
    work(waiting_run(personas, size=size))
    statements = list(Statement.objects.filter(statement_date=RUN_DAY))
    assert [(s.patient_id, s.amount_due_cents) for s in statements] == [(personas.pat.pk, 3_500)]
    assert set(
        StatementLine.objects.filter(statement=statements[0]).values_list("patient_id", flat=True)
    ) == {
        personas.pat.pk,
        kit.pk,
    }
    assert Message.objects.filter(subject_key=f"statement:{statements[0].pk}").count() == 1


def test_a_plan_on_the_combined_statement_splits_every_account_and_any_accounts_payment_fills_it(
    personas: Personas, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    from careline.billing.models import PlanState
    from careline.billing.services.payments import payment_record
    from careline.billing.services.plans import plan_create
    from careline.core.actor import Actor

    settings.CARELINE_PLAN_MIN_INSTALMENT_CENTS = 1_000
    kit, statement = _combined(personas)
    plan = plan_create(
        statement=statement, instalments=2, first_due=date(2030, 4, 1), actor=billing_actor(personas)
    )
    assert plan.patient_id == personas.pat.pk
    first, second = plan.instalments.order_by("number")
    assert (first.amount_cents, second.amount_cents) == (1_750, 1_750)  # $35.00, not Pat's own $25.00

    # The first instalment paid online: recorded on each account up to what it owes, all of it the plan's.
    row, _ = checkout_open(
        checkout=Checkout(
            patient_id=personas.pat.pk, amount_cents=1_750, currency="USD", description="Instalment 1",
            success_url="https://x.test/ok", cancel_url="", idempotency_key="i1", statement_id=statement.pk,
            instalment_id=first.pk,
        ),
        provider="test",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        checkout_paid(provider="test", reference=row.reference, payment_reference="pi_i1", amount_cents=1_750)
    first.refresh_from_db()
    assert first.state == "paid" and first.paid_cents == 1_750
    assert statement_balance(statement).due == 1_750

    # The rest paid at the desk on the child's own account: it pays the guarantor's plan, which completes.
    payment_record(patient=kit, amount_cents=1_000, method="cash", actor=Actor.staff(personas.front_a))
    payment_record(patient=personas.pat, amount_cents=750, method="cash", actor=Actor.staff(personas.front_a))
    second.refresh_from_db()
    plan.refresh_from_db()
    assert second.paid_cents == 1_750 and plan.state == PlanState.COMPLETED
    assert patient_balance(personas.pat).due == 0 and patient_balance(kit).due == 0
