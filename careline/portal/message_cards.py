"""The messages area on Home (the "Unread messages" card) and in the portal's search box."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from careline.messaging.channels.portal.conversations import VISIBLE_STATES, portal_conversations_of
from careline.messaging.models import Message
from careline.portal.home import HomeCard, home_card
from careline.portal.models import PortalSection
from careline.portal.queries.messages import unread_total
from careline.portal.search import SearchHit, search_source

if TYPE_CHECKING:
    from careline.portal.access import PortalSession


@home_card(order=20)
def unread_messages_card(session: PortalSession) -> HomeCard | None:
    """How many messages from the care team wait unread (nothing when the section is not granted)."""
    if not session.may(PortalSection.MESSAGES):
        return None
    count = unread_total(session.account, session.patient.pk)
    return HomeCard(template="portal/messages/_home_unread.html", context={"unread": count})


@search_source(label=_("Messages"), section=PortalSection.MESSAGES, order=20)  # type: ignore[arg-type]
def messages_matching(session: PortalSession, words: list[str], limit: int) -> list[SearchHit]:
    """The open record's portal messages containing every word, newest first."""
    found = Message.objects.filter(
        conversation__in=portal_conversations_of(session.patient.pk).values("pk"), state__in=VISIBLE_STATES
    )
    for word in words:
        found = found.filter(body__icontains=word)
    return [
        SearchHit(
            kind="message",
            title=message.body[:80],
            url=reverse("portal:message_thread", args=[message.conversation_id]),
            when=message.created_at,
        )
        for message in found.order_by("-created_at", "-pk")[:limit]
    ]
