"""The statement run pages: who may open them, the preview's counts, starting a run, its progress (HTMX) and
history; bad input answers a clear message and starts nothing; a location's staff see only their runs."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.test import Client
from django.urls import reverse

from careline.billing.models import Statement, StatementRun
from careline.billing.services import statement_runs
from careline.billing.tests.run_support import owing_patients, waiting_run, work
from careline.core.models import AuditEntry
from careline.core.permissions import ROLE_PERMISSIONS, Perm, Role
from careline.testing.personas import sign_in

NOW = datetime(2030, 3, 12, 17, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW), pytest.mark.usefixtures("clock")]
START = reverse("billing:statement_runs")


@pytest.fixture
def billing_may_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clinic that grants billing staff the configure permission (the roles' table, as a deployment's)."""
    monkeypatch.setitem(
        ROLE_PERMISSIONS, Role.BILLING, ROLE_PERMISSIONS[Role.BILLING] | {Perm.BILLING_CONFIGURE}
    )


@pytest.fixture
def no_workers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    queued: list[tuple[int, int]] = []
    monkeypatch.setattr(
        statement_runs, "_workers_enqueue", lambda run_id, attempt: queued.append((run_id, attempt))
    )
    return queued


def _form(location: object, **extra: str) -> dict[str, str]:
    return {"location": str(location), "statement_date": "2030-03-12", "due_date": "2030-04-11"} | extra


@pytest.mark.parametrize(
    ("who", "status"),
    [("admin", 200), ("front_a", 403), ("clinician_a", 403), ("billing_a", 403), ("front_b", 403)],
)
def test_only_the_configure_permission_opens_the_pages(personas, who, status):
    run = waiting_run(personas, location=personas.location_a)
    client = sign_in(Client(), getattr(personas, who))
    assert client.get(START).status_code == status
    assert client.get(reverse("billing:statement_run", args=[run.pk])).status_code == status
    before = StatementRun.objects.count()
    assert client.post(START, _form(personas.location_a.pk)).status_code in (
        {200, 302} if status == 200 else {403}
    )
    if status != 200:
        assert StatementRun.objects.count() == before


def test_an_outsider_is_sent_to_sign_in_and_starts_nothing(personas):
    run = waiting_run(personas)
    client = Client()
    for url in (START, reverse("billing:statement_run", args=[run.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    assert client.post(START, _form(personas.location_a.pk)).status_code == 302
    assert StatementRun.objects.count() == 1


def test_the_preview_counts_then_start_then_progress_then_history(
    personas, no_workers, django_capture_on_commit_callbacks
):
    owing_patients(personas, 3)
    client = sign_in(Client(), personas.admin)
    page = client.get(START, {**_form(personas.location_a.pk), "preview": "1"}).content.decode()
    assert 'data-count="would_issue">3<' in page and 'data-count="not_ready">0<' in page
    assert "Run0" not in page and "MRN-RUN" not in page  # counts only, no patient named
    assert AuditEntry.objects.filter(detail__startswith="statement run preview").exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(START, _form(personas.location_a.pk))
    run = StatementRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "billing:statement_run", args=[run.pk]
    )
    assert (
        no_workers == [(run.pk, 1)]
        and run.due_date == date(2030, 4, 11)
        and run.location == personas.location_a
    )
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in page and "Queued" in page
    work(run)
    panel = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert 'id="run-progress"' in panel and "<html" not in panel
    assert 'data-count="issued">3<' in panel and 'hx-trigger="every 2s"' not in panel  # done: stops asking
    assert Statement.objects.count() == 3
    history = client.get(START).content.decode()
    assert reverse("billing:statement_run", args=[run.pk]) in history and "Done" in history


@pytest.mark.parametrize(
    "bad",
    [
        {"due_date": "2030-03-01"},  # before the statement date
        {"statement_date": "2031-01-01"},  # far from today
        {"statement_date": "12/03/2030"},
        {"location": "999999"},
        {"location": "all"},  # "every location" is offered only to those who see every location
    ],
)
def test_bad_input_is_refused_with_a_message_and_starts_nothing(personas, no_workers, billing_may_run, bad):
    client = sign_in(Client(), personas.billing_a)
    response = client.post(START, _form(personas.location_a.pk) | bad)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not StatementRun.objects.exists() and no_workers == []


def test_a_location_s_staff_choose_and_see_only_their_locations(personas, no_workers, billing_may_run):
    mine = waiting_run(personas, location=personas.location_a)
    theirs = waiting_run(personas, location=personas.location_b)
    everyone = waiting_run(personas)
    client = sign_in(Client(), personas.billing_a)
    page = client.get(START).content.decode()
    assert personas.location_a.name in page and personas.location_b.name not in page
    assert "Every location" not in page
    assert client.get(reverse("billing:statement_run", args=[mine.pk])).status_code == 200
    for other in (theirs, everyone):
        assert client.get(reverse("billing:statement_run", args=[other.pk])).status_code == 404
    assert client.post(START, _form(personas.location_b.pk)).status_code == 400
    assert StatementRun.objects.count() == 3
    admin_page = sign_in(Client(), personas.admin).get(START).content.decode()
    assert "Every location" in admin_page


def test_a_failed_run_shows_its_reason_and_stops_asking(personas):
    run = waiting_run(personas)
    StatementRun.objects.filter(pk=run.pk).update(
        state="failed", failure_reason="The run was interrupted 3 times."
    )
    page = (
        sign_in(Client(), personas.admin)
        .get(reverse("billing:statement_run", args=[run.pk]))
        .content.decode()
    )
    assert "interrupted 3 times" in page and 'hx-trigger="every 2s"' not in page
