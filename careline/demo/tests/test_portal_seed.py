"""The demo clinic's portal accounts: own accounts and a parent with two children, sign-ins in the file."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from careline.portal.models import PortalAccount
from careline.testing.portal import portal_trust_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def signins(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    return (tmp_path / "demo-signins.txt").read_text()


def _portal_signins(text: str) -> list[tuple[str, str, str]]:
    portal = text.split("Patient portal", 1)[1]
    return re.findall(r"^(Patient|Caregiver)\s+(\S+)\s+password: (\S+)$", portal, flags=re.MULTILINE)


def test_every_portal_sign_in_in_the_file_works(signins):
    found = _portal_signins(signins)
    assert [label for label, _, _ in found].count("Patient") == 3
    assert [label for label, _, _ in found].count("Caregiver") == 1
    for _, identifier, password in found:
        # A browser new to the account stops at a one-time code; this one passed it before.
        client = portal_trust_device(Client(), PortalAccount.objects.get(email=identifier.lower()))
        response = client.post(reverse("portal:signin"), {"identifier": identifier, "password": password})
        assert response.status_code == 302, identifier
        assert client.get(reverse("portal:home")).status_code == 200


def test_the_demo_parent_switches_between_two_children(signins):
    parent = PortalAccount.objects.get(patient__isnull=True)
    records = list(parent.accesses.current().values_list("patient__legal_last_name", flat=True))
    assert len(records) == 2
    assert all(access.caregiver_id for access in parent.accesses.all())


def test_resetting_the_demo_passwords_gives_the_portal_accounts_new_ones(signins, settings):
    call_command("seed_demo", "--reset-passwords", stdout=io.StringIO())
    again = (settings.VAR_DIR / "demo-signins.txt").read_text()
    before = {identifier: password for _, identifier, password in _portal_signins(signins)}
    after = {identifier: password for _, identifier, password in _portal_signins(again)}
    assert before.keys() == after.keys()
    assert all(before[key] != after[key] for key in before)
    account = PortalAccount.objects.get(email=next(iter(after)))
    assert account.check_password(after[account.email])


def test_the_demo_has_faq_answers_in_both_languages_and_portal_conversations(signins):
    from careline.messaging.models import Conversation, Message
    from careline.portal.models import FaqEntry

    assert FaqEntry.objects.filter(language="en").count() >= 3
    assert FaqEntry.objects.filter(language="es").count() >= 3
    conversations = Conversation.objects.filter(channel__type_code="portal")
    assert conversations.count() == 2
    for conversation in conversations:
        kinds = list(Message.objects.filter(conversation=conversation).values_list("direction", "state"))
        assert kinds == [("in", "received"), ("out", "delivered")]
    _, identifier, password = _portal_signins(signins)[0]
    client = portal_trust_device(Client(), PortalAccount.objects.get(email=identifier.lower()))
    client.post(reverse("portal:signin"), {"identifier": identifier, "password": password})
    page = client.get(reverse("portal:messages")).content.decode()
    assert "1 unread" in page
