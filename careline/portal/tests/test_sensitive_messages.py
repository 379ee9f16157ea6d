"""One-time codes and invitation links go through the messaging pipeline, but staff never read them: the
conversation, the patient's timeline and the API say one was sent, never its text (or staff could sign in
as the patient)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from careline.core.actor import Actor
from careline.messaging.models import SENSITIVE_BODY_SHOWN, Message
from careline.portal.services.invitations import portal_invitation_send
from careline.portal.tests.portal_support import code_sent_to, texting_all_day, token_sent_to
from careline.testing.personas import sign_in
from careline.testing.portal import portal_account_for

pytestmark = pytest.mark.django_db
__all__ = ["texting_all_day"]

PAT_MOBILE = "+13125550111"


def _staff_views(personas, message: Message) -> list[str]:
    """The conversation page, the patient's page (timeline) and the API's message list, as the front desk."""
    client = sign_in(Client(), personas.front_a)
    return [
        client.get(reverse("messaging:conversation", args=[message.conversation_id])).content.decode(),
        client.get(reverse("patients:detail", args=[personas.pat.pk])).content.decode(),
    ]


def test_a_texted_sign_in_code_is_withheld_from_staff(personas, texting_all_day):
    portal_account_for(personas.pat, email=None, phone=PAT_MOBILE)
    Client().post(reverse("portal:code"), {"identifier": PAT_MOBILE})
    code = code_sent_to(PAT_MOBILE)
    message = Message.objects.filter(to_address=PAT_MOBILE).latest("pk")
    assert message.sensitive and code in message.body  # the phone gets it
    for page in _staff_views(personas, message):
        assert code not in page
    assert SENSITIVE_BODY_SHOWN in _staff_views(personas, message)[0]


def test_an_invitation_link_is_withheld_from_staff(personas, texting_all_day):
    portal_invitation_send(patient=personas.pat, actor=Actor.staff(personas.front_a))
    token = token_sent_to(PAT_MOBILE)
    message = Message.objects.filter(to_address=PAT_MOBILE).latest("pk")
    assert message.sensitive
    for page in _staff_views(personas, message):
        assert token not in page


def test_the_api_hands_out_no_sensitive_text(personas, texting_all_day):
    from careline.accounts.services import api_token_create

    portal_invitation_send(patient=personas.pat, actor=Actor.staff(personas.front_a))
    token = token_sent_to(PAT_MOBILE)
    _, secret = api_token_create(user=personas.front_a, name="test", actor=Actor.staff(personas.admin))
    response = Client().get(
        reverse("api:message_list_api"),
        {"patient_id": personas.pat.pk},
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 200
    bodies = [item["body"] for item in response.json()["items"]]
    assert SENSITIVE_BODY_SHOWN in bodies and not any(token in body for body in bodies)


def test_ordinary_texts_are_shown_as_written(personas):
    message = Message(body="See you Monday", sensitive=False)
    assert message.staff_body == "See you Monday"
