"""Beat's sweeps travel on a queue of their own that every worker consumes, so a backlog of work never holds
back the sweeps that recover work (found by the chaos run: after a reminder burst and a Redis restart, the
sweeps waited minutes behind thousands of tasks), and a sweep still waiting after its interval is dropped."""

from __future__ import annotations

from django.conf import settings

from careline.celery import _beat_schedule, app


def test_every_periodic_task_goes_to_the_sweep_queue_and_expires_at_its_next_run():
    schedule = _beat_schedule()
    assert schedule
    for name, entry in schedule.items():
        assert entry["options"] == {"queue": settings.CARELINE_SWEEP_QUEUE, "expires": entry["schedule"]}, (
            name
        )


def test_a_worker_started_without_queues_consumes_the_default_queue_and_the_sweeps():
    assert f"{settings.CELERY_TASK_DEFAULT_QUEUE}-sweeps" == settings.CARELINE_SWEEP_QUEUE
    consumed = {queue.name for queue in app.amqp.queues.consume_from.values()} or set(app.amqp.queues)
    assert {settings.CELERY_TASK_DEFAULT_QUEUE, settings.CARELINE_SWEEP_QUEUE} <= consumed


def test_a_task_queued_by_the_code_still_goes_to_the_default_queue():
    assert (
        app.amqp.router.route({}, "messaging.dispatch_messages")["queue"].name
        == settings.CELERY_TASK_DEFAULT_QUEUE
    )
