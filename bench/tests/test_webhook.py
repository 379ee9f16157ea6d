"""The webhook bench at tiny sizes: the pre-signed requests verify, the batch figure runs, the report names all."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator

from bench import webhook, webhook_suite
from careline.messaging.models import Message, MessageState


@pytest.mark.django_db
def test_the_pre_signed_requests_verify_and_the_batch_step_applies_them() -> None:
    channel, ids = webhook.seed(10)
    token = os.environ[webhook.TOKEN_VARIABLE]
    items = webhook.signed_requests("http://127.0.0.1:8104", token, channel, ids, 12)
    validator = RequestValidator(token)
    for item in items:
        form = dict(parse_qsl(item["body"]))
        assert validator.validate("http://127.0.0.1:8104" + item["path"], form, item["signature"])
    assert sum(item["path"] == webhook.INBOUND for item in items) == 3
    figures = webhook.apply_rate(channel, ids, 40)
    assert figures["callbacks"] == 40
    assert not Message.objects.filter(pk__in=ids, state=MessageState.QUEUED).exists()


def test_the_report_names_every_run_and_the_batch_figure() -> None:
    row: dict[str, Any] = {
        "ok": 100,
        "errors": 0,
        "per_second": 100.0,
        "p50_ms": 2.0,
        "p99_ms": 9.0,
        "generator_cpu_s": 0.5,
        "server_cpu_s": 0.2,
        "load_average": 1.5,
    }
    result = {
        "label": "PostgreSQL + Redis",
        "runs": 3,
        "seconds": 10.0,
        "load": {
            "granian/bare@300": row,
            "granian/webhook@300": {**row, "database_cpu_s": 0.05},
            "gunicorn/webhook@1000": row,
            "gunicorn/webhook@0": row,
        },
        "server": "Granian WSGI, 2 processes x 8 threads; gunicorn gthread, 2 processes x 8 threads",
        "posted": 9000,
        "signed": 100000,
        "inbound_stored": 25,
        "callbacks_stored": 75,
        "apply": {"callbacks": 1000, "seconds": 0.1, "per_second": 10000.0, "moved": 900},
    }
    text = webhook_suite.report(result)
    assert "bare Django view" in text and "flat out" in text and "1,000 req/s" in text
    assert "10,000/s" in text
    assert "2 processes x 8 threads" in text and "9,000 webhook requests posted" in text
    assert "| 1.5 |" in text  # the load average beside every figure
    assert "| granian | Twilio webhooks | 300 req/s |" in text and "| gunicorn | Twilio webhooks |" in text
    assert "| 0.50 ms |" in text  # PostgreSQL's CPU per request, where it could be read
    assert "| n/a |" in text
