"""Every field an announcement, a saved reply or an after-hours reply offers renders non-empty with sample data,
and the forms offer exactly the fields their kind can fill."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from careline.core.actor import Actor
from careline.messaging.channels.base import InboundMessage
from careline.messaging.forms.manage import AnnouncementForm, MessagingPolicyForm, SavedReplyForm
from careline.messaging.models import Message, MessageKind, MessagingPolicy, SavedReply
from careline.messaging.services.announcements import announcement_preview
from careline.messaging.services.channels import simulator_channel
from careline.messaging.services.inbound import inbound_receive
from careline.messaging.templating import TemplateKind, fields_for, fields_help
from careline.messaging.tests.inbox_support import PAT_NUMBER, texted_by
from careline.scheduling.forms.reminders import ReminderRuleForm

pytestmark = pytest.mark.django_db

CLOSED = datetime(2026, 3, 4, 22, 0, tzinfo=ZoneInfo("America/Chicago"))


def every_field(kind: TemplateKind) -> str:
    return " ".join(f"{name}=[{{{name}}}]" for name in fields_for(kind))


def rendered_fields(text: str) -> dict[str, str]:
    return dict(re.findall(r"(\w+)=\[([^\]]*)\]", html.unescape(text)))


def test_an_announcement_renders_every_offered_field(personas):
    preview = announcement_preview(
        actor=Actor.staff(personas.front_a),
        body=every_field(TemplateKind.ANNOUNCEMENT),
        location=None,
        language="",
    )
    values = rendered_fields(preview.sample)
    assert set(values) == set(fields_for(TemplateKind.ANNOUNCEMENT))
    assert all(values.values()), values


def test_a_saved_reply_renders_every_offered_field_on_the_conversation_page(
    personas, client_for, time_machine
):
    time_machine.move_to(CLOSED, tick=False)
    SavedReply.objects.create(title="All", body=every_field(TemplateKind.SAVED_REPLY), location=None)
    conversation = texted_by(PAT_NUMBER)
    page = client_for(personas.front_a).get(reverse("messaging:conversation", args=[conversation.pk]))
    values = rendered_fields(page.content.decode())
    assert set(values) >= set(fields_for(TemplateKind.SAVED_REPLY))
    assert all(values[name] for name in fields_for(TemplateKind.SAVED_REPLY)), values
    assert values["first_name"] == "Pat"
    assert values["location_address"].startswith(personas.location_a.address_line1)


@pytest.mark.parametrize(("number", "language"), [("+13125550111", "en"), ("+14155550122", "es")])
def test_an_after_hours_reply_renders_every_offered_field(personas, time_machine, number, language):
    location = personas.location_a if language == "en" else personas.location_b
    MessagingPolicy.objects.create(
        location=location,
        after_hours_text=every_field(TemplateKind.AFTER_HOURS) + " en",
        after_hours_translations={"es": every_field(TemplateKind.AFTER_HOURS) + " es"},
    )
    time_machine.move_to(CLOSED.replace(tzinfo=location.zone), tick=False)
    channel = simulator_channel()
    inbound_receive(
        channel=channel,
        inbound=InboundMessage(
            provider_message_id=f"AH-{number}", from_address=number, to_address=channel.address, body="Hello"
        ),
    )
    reply = Message.objects.get(kind=MessageKind.AUTO_REPLY)
    assert reply.body.endswith(language)
    values = rendered_fields(reply.body)
    assert set(values) == set(fields_for(TemplateKind.AFTER_HOURS))
    assert all(values.values()), values


def test_each_form_offers_exactly_its_kinds_fields(personas):
    from careline.locations.models import Location

    locations = Location.objects.all()
    assert AnnouncementForm(locations=locations).fields["body"].help_text == fields_help(
        TemplateKind.ANNOUNCEMENT
    )
    reply_form = SavedReplyForm(locations=locations, allow_all=True)
    assert reply_form.fields["body"].help_text == fields_help(TemplateKind.SAVED_REPLY)
    policy_help = MessagingPolicyForm().fields["after_hours_text"].help_text
    assert policy_help.startswith(fields_help(TemplateKind.AFTER_HOURS))
    assert "{first_name}" not in policy_help and "{date}" not in policy_help
    rule_help = ReminderRuleForm().fields["template_en"].help_text
    assert rule_help.startswith(fields_help(TemplateKind.REMINDER)) and "{visit_type}" in rule_help
