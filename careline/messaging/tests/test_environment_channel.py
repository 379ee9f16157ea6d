"""The channel TWILIO_* describe exists from start-up (migrate, web, worker, beat), not from the first send."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from celery.signals import beat_init, worker_ready
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext

from careline.core.models import AuditEntry
from careline.messaging.channels.twilio.type import ENV_TWILIO_NAME
from careline.messaging.models import Channel, Message
from careline.messaging.services.channels import channel_default, channel_environment_reconcile
from careline.messaging.testing.fixtures import inbound_params, signed_post
from careline.patients.models import ConsentEvent, ConsentKind

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
PAT = "+13125550111"
ENV_NUMBER = "+15555550142"


pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.fixture
def twilio_env(settings, monkeypatch, twilio_double):
    """TWILIO_* set as a deployment would set them, pointed at the loopback double; no channel row yet."""
    settings.TWILIO_ACCOUNT_SID = twilio_double.account_sid
    settings.TWILIO_AUTH_TOKEN_SET = True
    settings.TWILIO_FROM_NUMBER = ENV_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = None
    settings.TWILIO_API_BASE_URL = twilio_double.url
    settings.TWILIO_KEYWORD_REPLIES = "provider"
    settings.TWILIO_RATE_PER_SECOND = None
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", twilio_double.auth_token)
    return settings


def _env_params(twilio_double, body, **kwargs):
    channel = Channel(config={"account_sid": twilio_double.account_sid, "from_number": ENV_NUMBER})
    return inbound_params(channel, PAT, body, **kwargs)


def test_an_inbound_stop_before_any_send_is_stored_and_honoured(personas, twilio_env, twilio_double):
    assert not Channel.objects.filter(source=Channel.Source.ENVIRONMENT).exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = signed_post(
            Client(),
            "/webhooks/twilio/messages",
            _env_params(twilio_double, "STOP", opt_out_type="STOP"),
            twilio_double.auth_token,
        )
    assert response.status_code == 200
    message = Message.objects.get(direction=Message.Direction.INBOUND)
    assert message.channel.source == Channel.Source.ENVIRONMENT
    assert ConsentEvent.objects.filter(phone_number=PAT, kind=ConsentKind.REVOKED).exists()


@pytest.mark.parametrize("start", ["migrate", "worker", "beat"])
def test_the_channel_is_created_when_a_process_starts(personas, twilio_env, start):
    if start == "migrate":
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    elif start == "worker":
        worker_ready.send(sender=None)
    else:
        beat_init.send(sender=None)
    channel = Channel.objects.get(source=Channel.Source.ENVIRONMENT)
    assert channel.name == ENV_TWILIO_NAME
    assert channel.address == ENV_NUMBER
    assert channel.default_for == "sms"


def test_a_changed_environment_is_applied_and_audited(personas, twilio_env):
    channel = channel_environment_reconcile()
    twilio_env.TWILIO_FROM_NUMBER = "+15555550143"
    worker_ready.send(sender=None)
    channel.refresh_from_db()
    assert channel.address == "+15555550143"
    assert channel.config["from_number"] == "+15555550143"
    details = list(AuditEntry.objects.filter(object_id=str(channel.pk)).values_list("detail", flat=True))
    assert len(details) == 2
    assert "address" in details[1]
    assert "config" in details[1]


def test_the_send_path_reads_the_channel_once_without_a_lock(personas, twilio_env):
    channel_environment_reconcile()
    with CaptureQueriesContext(connection) as queries:
        assert channel_default("sms").source == Channel.Source.ENVIRONMENT
    statements = [query["sql"].upper() for query in queries.captured_queries]
    assert len(statements) == 1
    assert "FOR UPDATE" not in statements[0]


def test_a_stale_row_is_brought_up_to_date_on_the_send_path(personas, twilio_env):
    channel = channel_environment_reconcile()
    Channel.objects.filter(pk=channel.pk).update(rate_per_second=1.0)
    twilio_env.TWILIO_RATE_PER_SECOND = "3"
    assert channel_default("sms").rate_per_second == 3.0


def test_healthz_reports_a_configured_provider_without_a_channel(personas, twilio_env):
    response = Client().get("/healthz")
    assert response.status_code == 503
    check = response.json()["checks"]["channels"]
    assert check["status"] == "error"
    assert "no channel" in check["error"]
    channel_environment_reconcile()
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["channels"] == {"status": "ok", "provider": "twilio"}


def test_healthz_reports_incomplete_twilio_variables(db, settings):
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_AUTH_TOKEN_SET = True
    settings.TWILIO_FROM_NUMBER = None
    settings.TWILIO_MESSAGING_SERVICE_SID = None
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert "TWILIO_FROM_NUMBER" in response.json()["checks"]["channels"]["error"]


def test_healthz_is_fine_without_any_provider_configured(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["channels"] == {"status": "ok"}


def test_only_one_environment_channel_can_exist(db):
    Channel.objects.create(name="a", type_code="twilio", source=Channel.Source.ENVIRONMENT)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Channel.objects.create(name="b", type_code="twilio", source=Channel.Source.ENVIRONMENT)
