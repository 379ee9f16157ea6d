"""Who may use each inbox page and action: every persona, and an outsider."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careline.messaging.models import Conversation, InternalNote, Message, Tag
from careline.messaging.tests.inbox_support import NOON_CHICAGO, PAT_NUMBER, texted_by

STAFF = ["admin", "front_a", "clinician_a", "billing_a", "front_b"]


pytestmark = [pytest.mark.clock(NOON_CHICAGO), pytest.mark.usefixtures("clock")]


@pytest.fixture
def pat_conversation(personas) -> Conversation:
    conversation = texted_by(PAT_NUMBER)
    assert conversation.patient == personas.pat
    return conversation


@pytest.mark.parametrize("who", STAFF)
def test_every_staff_member_with_inbox_access_sees_the_inbox(personas, client_for, who):
    response = client_for(personas.staff[who]).get(reverse("messaging:inbox"))
    assert response.status_code == 200
    assert b'aria-current="page">Inbox' in response.content


def test_an_outsider_is_sent_to_sign_in_from_every_inbox_page(personas, client_for, pat_conversation):
    outsider = client_for(None)
    pk = pat_conversation.pk
    for url in [
        reverse("messaging:inbox"),
        reverse("messaging:conversation", args=[pk]),
        reverse("messaging:thread", args=[pk]),
        reverse("messaging:start") + f"?patient={personas.pat.pk}",
        reverse("messaging:media", args=[pk, "x.png"]),
    ]:
        response = outsider.get(url)
        assert response.status_code == 302, url
        assert "/accounts/login" in response["Location"], url
    for name in [
        "conversation",
        "note_add",
        "assign",
        "status",
        "tag_add",
        "link_patient",
        "opt_out",
        "dismiss",
    ]:
        response = outsider.post(
            reverse(f"messaging:{name}", args=[pk]), {"body": "hi", "text": "x", "name": "x"}
        )
        assert response.status_code == 302, name
        assert "/accounts/login" in response["Location"], name
    response = outsider.post(reverse("messaging:segments"), {"body": "hi"})
    assert response.status_code == 302
    assert not Message.objects.filter(direction="out").exists()
    assert not InternalNote.objects.exists()


@pytest.mark.parametrize("who", ["admin", "front_a", "clinician_a", "billing_a"])
def test_staff_of_pats_location_open_and_poll_her_conversation(personas, client_for, pat_conversation, who):
    client = client_for(personas.staff[who])
    assert client.get(reverse("messaging:conversation", args=[pat_conversation.pk])).status_code == 200
    assert client.get(reverse("messaging:thread", args=[pat_conversation.pk])).status_code == 200


def test_front_desk_at_another_location_cannot_open_or_act_on_pats_conversation(
    personas, client_for, pat_conversation
):
    client = client_for(personas.front_b)
    pk = pat_conversation.pk
    assert client.get(reverse("messaging:conversation", args=[pk])).status_code == 403
    assert client.get(reverse("messaging:thread", args=[pk])).status_code == 403
    assert client.get(reverse("messaging:media", args=[pk, "x.png"])).status_code == 403
    assert client.get(reverse("messaging:start") + f"?patient={personas.pat.pk}").status_code == 403
    tag = Tag.objects.create(name="billing")
    pat_conversation.tags.add(tag)
    posts = {
        "conversation": {"body": "Hello from B"},
        "note_add": {"text": "note"},
        "assign": {"assignee": "me"},
        "status": {"action": "close"},
        "tag_add": {"name": "urgent"},
        "link_patient": {"patient": personas.pat.pk},
        "opt_out": {},
        "dismiss": {"flag": "opt_out"},
    }
    for name, data in posts.items():
        assert client.post(reverse(f"messaging:{name}", args=[pk]), data).status_code == 403, name
    assert client.post(reverse("messaging:tag_remove", args=[pk, tag.pk])).status_code == 403
    pat_conversation.refresh_from_db()
    assert pat_conversation.status == "open"
    assert pat_conversation.assigned_to is None
    assert list(pat_conversation.tags.values_list("name", flat=True)) == ["billing"]
    assert not Message.objects.filter(direction="out").exists()
    assert not InternalNote.objects.exists()


@pytest.mark.parametrize("who", ["admin", "front_a", "clinician_a", "billing_a"])
def test_staff_of_pats_location_may_text_note_assign_close_and_tag(
    personas, client_for, pat_conversation, who
):
    client = client_for(personas.staff[who])
    pk = pat_conversation.pk
    for name, data in {
        "conversation": {"body": "We are open Friday 8 to 5."},
        "note_add": {"text": "Asked about Friday"},
        "assign": {"assignee": "me"},
        "tag_add": {"name": "hours"},
        "status": {"action": "close"},
    }.items():
        response = client.post(reverse(f"messaging:{name}", args=[pk]), data)
        assert response.status_code == 302, (name, response.content[:500])
    pat_conversation.refresh_from_db()
    assert pat_conversation.status == "closed"
    assert pat_conversation.assigned_to == personas.staff[who]
    assert Message.objects.filter(direction="out", author=personas.staff[who]).count() == 1


@pytest.mark.parametrize(
    ("who", "allowed"), [("admin", True), ("front_a", True), ("clinician_a", True), ("billing_a", False)]
)
def test_only_staff_who_may_record_consent_use_the_one_click_opt_out(
    personas, client_for, pat_conversation, who, allowed
):
    Conversation.objects.filter(pk=pat_conversation.pk).update(opt_out_suspected=True)
    response = client_for(personas.staff[who]).post(reverse("messaging:opt_out", args=[pat_conversation.pk]))
    assert response.status_code == (302 if allowed else 403)
    pat_conversation.refresh_from_db()
    assert pat_conversation.opt_out_suspected is (not allowed)


@pytest.mark.parametrize("who", STAFF)
def test_the_segment_counter_answers_every_staff_member(personas, client_for, who):
    response = client_for(personas.staff[who]).post(reverse("messaging:segments"), {"body": "Hello"})
    assert response.status_code == 200
    assert response.content.decode() == "1 segment · GSM-7 · 155 left"


def test_a_missing_conversation_is_404(personas, client_for):
    assert (
        client_for(personas.front_a).get(reverse("messaging:conversation", args=[999999])).status_code == 404
    )
