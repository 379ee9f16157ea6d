"""/metrics: who may read it, and the values for a seeded state (read from the database at scrape time)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from careline.core.metrics import queue_depths
from careline.messaging.models import Conversation, Message, MessageState
from careline.messaging.services.channels import simulator_channel
from careline.scheduling.models import Reminder, ReminderState
from careline.scheduling.tests.reminders_support import make_appointment

pytestmark = pytest.mark.django_db

TOKEN = "m" * 20 + "-scrape-token-0123456789"
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of an exposition text (parsed by prometheus-client)."""
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


@pytest.fixture
def token(settings):
    settings.CARELINE_METRICS_TOKEN = TOKEN
    return TOKEN


def test_a_scraper_with_the_token_reads_the_metrics(token):
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-store" in response["Cache-Control"]
    assert "careline_queue_depth" in response.content.decode()


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"bearer {TOKEN[:-1]}"],
)
def test_an_outsider_without_the_token_gets_401_and_no_metrics(token, authorization):
    response = Client().get("/metrics", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"careline_" not in response.content


def test_no_token_configured_means_no_token_opens_it(settings):
    settings.CARELINE_METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("admin", True), ("front_a", False), ("clinician_a", False), ("billing_a", False), ("front_b", False)],
)
def test_staff_read_the_metrics_only_with_the_permission(personas, client_for, role, allowed):
    response = client_for(getattr(personas, role)).get("/metrics")
    assert response.status_code == (200 if allowed else 403)
    assert (b"careline_messages" in response.content) is allowed


def test_metrics_refuse_post(token):
    assert Client().post("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 405


def _message(conversation, *, state, direction="out", created, due_at=None, processed_at=None):
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=direction,
        to_address=conversation.contact,
        body="Hello",
        state=state,
        due_at=due_at,
        processed_at=processed_at,
    )
    Message.objects.filter(pk=message.pk).update(created_at=created)
    return message


def test_values_for_a_seeded_state(personas, token, time_machine):
    time_machine.move_to(NOW, tick=False)
    conversation = Conversation.objects.create(channel=simulator_channel(), contact="+13125550199")
    # Due-row lag: the oldest queued outbound text that is due: created 90 s ago with no due time, or due
    # 40 s ago; one due in the future (quiet hours) and one already sent do not count.
    _message(conversation, state=MessageState.QUEUED, created=NOW - timedelta(seconds=90))
    _message(
        conversation,
        state=MessageState.QUEUED,
        created=NOW - timedelta(hours=5),
        due_at=NOW - timedelta(seconds=40),
    )
    _message(
        conversation,
        state=MessageState.QUEUED,
        created=NOW - timedelta(hours=9),
        due_at=NOW + timedelta(hours=1),
    )
    _message(conversation, state=MessageState.SENT, created=NOW - timedelta(days=2))
    # Callback lag: an inbound text stored 25 s ago and not processed; a processed older one does not count.
    _message(conversation, state=MessageState.RECEIVED, direction="in", created=NOW - timedelta(seconds=25))
    _message(
        conversation,
        state=MessageState.RECEIVED,
        direction="in",
        created=NOW - timedelta(hours=1),
        processed_at=NOW,
    )
    # Reminders: one due 300 s ago still pending, an older one already sent, one not yet due.
    appointment = make_appointment(personas, NOW + timedelta(days=2))
    Reminder.objects.filter(appointment=appointment).delete()
    for due, state in (
        (NOW - timedelta(seconds=300), ReminderState.PENDING),
        (NOW - timedelta(hours=3), ReminderState.SENT),
        (NOW + timedelta(hours=3), ReminderState.PENDING),
    ):
        Reminder.objects.create(
            appointment=appointment, appointment_starts_at=appointment.starts_at, due_at=due, state=state
        )

    values = _samples(Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode())

    assert values[("careline_due_lag_seconds", (("kind", "message"),))] == 90.0
    assert values[("careline_due_lag_seconds", (("kind", "reminder"),))] == 300.0
    assert values[("careline_callback_lag_seconds", (("kind", "inbound"),))] == 25.0
    assert values[("careline_callback_lag_seconds", (("kind", "inbound_media"),))] == 0.0
    assert values[("careline_messages", (("direction", "out"), ("state", "queued")))] == 3
    assert values[("careline_messages", (("direction", "out"), ("state", "sent")))] == 1
    assert values[("careline_messages", (("direction", "in"), ("state", "received")))] == 2
    assert values[("careline_queue_depth", (("queue", "celery"),))] >= 0
    assert values[("careline_metrics_source_up", (("source", "messaging"),))] == 1


def test_nothing_waiting_reads_zero_lag(token):
    values = _samples(Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode())
    assert values[("careline_due_lag_seconds", (("kind", "message"),))] == 0.0
    assert values[("careline_due_lag_seconds", (("kind", "reminder"),))] == 0.0
    assert values[("careline_callback_lag_seconds", (("kind", "inbound"),))] == 0.0


def test_every_family_is_exposed_once(token):
    text = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode()
    types = [line for line in text.splitlines() if line.startswith("# TYPE ")]
    assert len(types) == len(set(types))
    assert "# TYPE careline_due_lag_seconds gauge" in types


def test_request_metrics_count_by_route_pattern_never_by_path(token, personas, client_for):
    client_for(personas.front_a).get(f"/patients/{personas.pat.pk}")
    text = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode()
    assert 'route="patients/<int:pk>"' in text
    assert f"/patients/{personas.pat.pk}" not in text


def test_an_unreachable_broker_is_reported_and_the_rest_still_answers(token, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once
    values = _samples(Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode())
    assert values[("careline_metrics_source_up", (("source", "broker"),))] == 0
    assert values[("careline_metrics_source_up", (("source", "messaging"),))] == 1


def test_queue_depth_counts_tasks_waiting_on_the_folder_broker(settings, tmp_path):
    from kombu import Connection

    url = settings.CELERY_BROKER_URL
    with Connection(url, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS) as conn:
        queue = conn.SimpleQueue(f"metrics-test-{timezone.now().timestamp():.0f}")
        try:
            queue.put({"id": 1})
            queue.put({"id": 2})
            assert queue_depths(url, [queue.queue.name]) == {queue.queue.name: 2}
        finally:
            queue.clear()
            queue.close()


def test_request_counts_of_several_processes_add_up_in_multiprocess_mode(tmp_path, monkeypatch):
    """gunicorn's workers each write their counts to PROMETHEUS_MULTIPROC_DIR; any one of them answers the sum."""
    import subprocess
    import sys

    from careline.core.metrics import metrics_text

    script = (
        "from careline.core.metrics import REQUESTS\n"
        "import sys\n"
        "REQUESTS.labels(route='inbox/', method='GET', status='2xx').inc(int(sys.argv[1]))\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for count in (3, 4):  # two worker processes
        subprocess.run([sys.executable, "-c", script, str(count)], env=env, check=True, timeout=120)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    values = _samples(metrics_text().decode())
    key = ("careline_http_requests_total", (("method", "GET"), ("route", "inbox/"), ("status", "2xx")))
    assert values[key] == 7
