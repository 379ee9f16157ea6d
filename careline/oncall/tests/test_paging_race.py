"""Races on PostgreSQL with real threads: two sweeps escalate a page once; two urgent texts page once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from careline.core.actor import Actor
from careline.oncall.models import Page, PageNotice, PageState
from careline.oncall.services.paging import page_on_call, pages_escalate_due
from careline.oncall.tests.helpers import backup_clinician, shift

NIGHT = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def _together(work: Callable[[], int], times: int = 2) -> list[int]:
    barrier = threading.Barrier(times)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_tell_the_backup_once(personas) -> None:
    with time_machine.travel(NIGHT, tick=False):
        backup = backup_clinician(personas)
        shift(
            personas.location_a,
            personas.clinician_a,
            NIGHT - timedelta(hours=1),
            NIGHT + timedelta(hours=8),
            backup,
        )
        page = page_on_call(
            location=personas.location_a,
            reason="urgent-text",
            link_path="/inbox/1",
            actor=Actor.system("test"),
        )
    with time_machine.travel(NIGHT + timedelta(minutes=16), tick=False):
        results = _together(pages_escalate_due)
    assert sorted(results) == [0, 1]
    page.refresh_from_db()
    assert page.state == PageState.ESCALATED
    assert PageNotice.objects.filter(page=page, role="backup").count() == 2  # one text, one email


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_pages_for_the_same_thing_at_once_make_one_page(personas) -> None:
    with time_machine.travel(NIGHT, tick=False):
        shift(
            personas.location_a, personas.clinician_a, NIGHT - timedelta(hours=1), NIGHT + timedelta(hours=8)
        )

        def page() -> int:
            return page_on_call(
                location=personas.location_a,
                reason="urgent-text",
                link_path="/inbox/7",
                actor=Actor.system("test"),
            ).pk

        results = _together(page)
    assert len(set(results)) == 1
    assert Page.objects.count() == 1
