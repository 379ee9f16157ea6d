"""A channel type is one package plus one line of settings: a type installed only here (override_settings)
gets its webhook URL under /webhooks/<code>/ and runs through the same pipeline as the built-in ones,
while every existing webhook URL stays exactly where providers are told to call."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import HttpRequest, HttpResponse
from django.test import Client, TestCase, override_settings
from django.urls import Resolver404, URLPattern, URLResolver, path, resolve, reverse
from django.views.decorators.csrf import csrf_exempt

from careline.messaging.channels import UnknownChannelType, channel_type, channel_types
from careline.messaging.channels.base import ChannelType, InboundMessage, InboundRejected, SendResult
from careline.messaging.channels.twilio import views as twilio_views
from careline.messaging.models import Channel, Message, MessageState
from careline.messaging.outbound.compose import message_send
from careline.messaging.outbound.queue import SENDING_TIMEOUT
from careline.messaging.outbound.sweep import messages_sweep

NOON_CHICAGO = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
FAKE_KEY = "fake-webhook-key"


class LoopbackType(ChannelType):
    """A provider that exists only in this test module."""

    code = "loopback"
    name = "Loopback provider"
    capabilities = frozenset({"sms"})
    accepted: ClassVar[dict[int, str]] = {}

    def urlpatterns(self) -> list[URLPattern | URLResolver]:
        return [path("inbound", loopback_inbound, name="webhook-loopback-inbound")]

    def send(self, channel, message):
        provider_id = f"LB{message.pk}"
        self.accepted[message.pk] = provider_id
        return SendResult(provider_message_id=provider_id)

    def find_sent(self, channel, message, *, since):
        return self.accepted.get(message.pk)

    def verify_inbound(self, channel, request):
        if request.headers.get("X-Loopback-Key") != FAKE_KEY:
            raise InboundRejected("wrong key")

    def parse_inbound(self, channel, request):
        return InboundMessage(
            provider_message_id=request.POST["id"],
            from_address=request.POST["from"],
            to_address=channel.address,
            body=request.POST.get("text", ""),
        )


@csrf_exempt
def loopback_inbound(request: HttpRequest) -> HttpResponse:
    from careline.messaging.services.inbound import inbound_store

    channel = Channel.objects.get(type_code=LoopbackType.code)
    try:
        channel.type.verify_inbound(channel, request)
        inbound = channel.type.parse_inbound(channel, request)
    except InboundRejected:
        return HttpResponse(status=403)
    inbound_store(channel=channel, inbound=inbound)
    return HttpResponse("ok")


LOOPBACK_PATH = f"{LoopbackType.__module__}.{LoopbackType.__qualname__}"
BUILT_IN = [
    "careline.messaging.channels.simulator.type.SimulatorType",
    "careline.messaging.channels.email.type.EmailType",
    "careline.messaging.channels.twilio.type.TwilioType",
    "careline.messaging.channels.portal.type.PortalType",
]


pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.fixture
def loopback(settings):
    LoopbackType.accepted.clear()
    settings.CARELINE_CHANNEL_TYPES = [*BUILT_IN, LOOPBACK_PATH]
    return Channel.objects.create(name="Loopback", type_code=LoopbackType.code, address="+15555550177")


def test_existing_webhook_urls_are_unchanged():
    assert reverse("webhook-twilio-messages") == "/webhooks/twilio/messages"
    assert reverse("webhook-twilio-status") == "/webhooks/twilio/status"
    assert resolve("/webhooks/twilio/messages").func is twilio_views.twilio_inbound
    assert resolve("/webhooks/twilio/status").func is twilio_views.twilio_status
    assert list(channel_types()) == ["simulator", "email", "twilio", "portal"]


def test_a_type_installed_by_settings_gets_its_webhook_url_and_only_while_installed():
    with pytest.raises(Resolver404):
        resolve("/webhooks/loopback/inbound")
    with override_settings(CARELINE_CHANNEL_TYPES=[*BUILT_IN, LOOPBACK_PATH]):
        assert reverse("webhook-loopback-inbound") == "/webhooks/loopback/inbound"
        assert resolve("/webhooks/loopback/inbound").func is loopback_inbound
        assert resolve("/webhooks/twilio/messages").func is twilio_views.twilio_inbound
        assert isinstance(channel_type("loopback"), LoopbackType)
    with pytest.raises(Resolver404):
        resolve("/webhooks/loopback/inbound")
    with pytest.raises(UnknownChannelType, match="no channel type 'loopback' is installed"):
        channel_type("loopback")


def test_the_pipeline_sends_receives_and_recovers_through_the_installed_type(personas, loopback, clock):
    with TestCase.captureOnCommitCallbacks(execute=True):
        message = message_send(body="Hello from the clinic", patient=personas.pat, channel=loopback)
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert message.provider_message_id == f"LB{message.pk}"

    # A worker that died after the provider accepted: the sweep asks the type (find_sent), no resend.
    stuck = message_send(
        body="Second", patient=personas.pat, channel=loopback, send_at=NOON_CHICAGO + timedelta(hours=1)
    )
    LoopbackType.accepted[stuck.pk] = "LB-accepted"
    Message.objects.filter(pk=stuck.pk).update(state=MessageState.SENDING, claimed_at=NOON_CHICAGO)
    clock.shift(SENDING_TIMEOUT + timedelta(seconds=1))
    messages_sweep()
    stuck.refresh_from_db()
    assert stuck.provider_message_id == "LB-accepted"
    assert stuck.state == MessageState.SENT

    client = Client()
    params = {"id": "in-1", "from": "+13125550111", "text": "Thanks"}
    assert client.post("/webhooks/loopback/inbound", params).status_code == 403
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/webhooks/loopback/inbound", params, headers={"X-Loopback-Key": FAKE_KEY})
    assert response.status_code == 200
    inbound = Message.objects.get(direction=Message.Direction.INBOUND)
    assert inbound.channel == loopback
    assert inbound.processed_at is not None
    assert inbound.patient == personas.pat


def test_channel_type_is_validated_against_the_installed_types(db, loopback, settings):
    loopback.full_clean()
    assert ("loopback", "Loopback provider") in Channel._meta.get_field("type_code").choices
    stray = Channel(name="Stray", type_code="nonesuch", address="+15555550178")
    with pytest.raises(ValidationError) as refused:
        stray.full_clean()
    assert "type_code" in refused.value.message_dict
    with pytest.raises(UnknownChannelType, match=r"installed: simulator, email, twilio, portal, loopback"):
        stray.type  # noqa: B018 - the property raises


CODE_BRANCH = re.compile(r"""(type_code|\.code)\s*(==|!=|=)\s*["']|["'](simulator|twilio)["']""")


def test_nothing_outside_a_type_package_names_a_type_code():
    """Behaviour that depends on the provider belongs to the type (capabilities and methods on the base)."""
    root = Path(__file__).resolve().parents[3]  # careline/
    packages = {root / "messaging" / "channels" / code for code in ("simulator", "email", "twilio", "portal")}
    offenders = []
    for source in root.rglob("*.py"):
        if any(part in ("tests", "migrations", "testing") for part in source.parts):
            continue
        if any(package in source.parents for package in packages) or source.name == "settings.py":
            continue
        for number, line in enumerate(source.read_text().splitlines(), 1):
            is_routes = source.name == "urls.py" or source.parent.name == "urls"  # paths may read "simulator"
            if CODE_BRANCH.search(line) and not is_routes:
                offenders.append(f"{source.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []


def test_a_wrong_type_list_stops_the_system_checks_with_its_name():
    from django.core import checks

    wrong = [*BUILT_IN, "careline.messaging.channels.sms77.type.Sms77Type"]
    with (
        override_settings(CARELINE_CHANNEL_TYPES=wrong),
        pytest.raises(ImproperlyConfigured, match=r"CARELINE_CHANNEL_TYPES: cannot import '.*Sms77Type'"),
    ):
        checks.run_checks()  # the URL check mounts every type's webhooks
    assert not [problem for problem in checks.run_checks() if problem.is_serious()]
