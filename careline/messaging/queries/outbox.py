"""Reads behind the announcement, scheduled-message, administration and API pages (the inbox has queries.py)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from careline.core.permissions import Perm, has_perm
from careline.locations.models import Location
from careline.messaging.models import Announcement, Message, MessageState, SavedReply
from careline.patients.models import Patient
from careline.patients.queries import patients_visible_to


def sees_all_locations(user: Any) -> bool:
    """Whether USER works across every location (administrators)."""
    return has_perm(user, Perm.PATIENT_VIEW_ALL_LOCATIONS)


def locations_of(user: Any) -> QuerySet[Location]:
    """The active locations USER works at (every one for those who see all locations)."""
    locations = Location.objects.filter(is_active=True)
    if not sees_all_locations(user):
        locations = locations.filter(pk__in=user.location_ids)
    return locations.order_by("name")


def announcements_visible_to(user: Any) -> QuerySet[Announcement]:
    """Announcements to USER's locations, and their own; every one for those who see all locations."""
    rows = Announcement.objects.select_related("location", "created_by")
    if not sees_all_locations(user):
        rows = rows.filter(Q(location_id__in=user.location_ids) | Q(created_by=user))
    return rows.order_by("-created_at", "-pk")


def announcement_for_user(user: Any, pk: int) -> Announcement:
    """Announcement PK: 404 when there is none, 403 when USER may not see it."""
    announcement = Announcement.objects.filter(pk=pk).first()
    if announcement is None:
        raise Http404("No such announcement")
    if (
        not has_perm(user, Perm.ANNOUNCEMENT_SEND)
        or not announcements_visible_to(user).filter(pk=pk).exists()
    ):
        raise PermissionDenied
    return announcement


def _messages_visible_to(user: Any) -> QuerySet[Message]:
    """Messages of patients USER may see, and of unmatched numbers texting their locations."""
    if not has_perm(user, Perm.INBOX_VIEW):
        return Message.objects.none()
    if sees_all_locations(user):
        return Message.objects.all()
    return Message.objects.filter(
        Q(patient__in=patients_visible_to(user))
        | Q(patient__isnull=True, conversation__location_id__in=user.location_ids)
    )


def scheduled_messages_visible_to(user: Any) -> QuerySet[Message]:
    """Messages staff set to go later that have not gone yet, soonest first."""
    return (
        _messages_visible_to(user)
        .filter(scheduled=True, state=MessageState.QUEUED, direction=Message.Direction.OUTBOUND)
        .select_related("patient", "patient__primary_location", "conversation__location", "author")
        .order_by("due_at", "pk")
    )


def message_for_user(user: Any, pk: int, perm: str = Perm.INBOX_VIEW) -> Message:
    """Message PK: 404 when there is none, 403 when USER lacks PERM or may not see it."""
    message = (
        Message.objects.select_related("patient", "patient__primary_location", "conversation__location")
        .filter(pk=pk)
        .first()
    )
    if message is None:
        raise Http404("No such message")
    if not has_perm(user, perm) or not _messages_visible_to(user).filter(pk=pk).exists():
        raise PermissionDenied
    return message


def message_location(message: Message) -> Location | None:
    """The location whose time zone a message's times are shown in."""
    if message.patient is not None:
        return message.patient.primary_location
    return message.conversation.location


def patient_messages(patient: Patient) -> QuerySet[Message]:
    """A patient's messages in and out, newest first."""
    return Message.objects.filter(patient=patient).order_by("-created_at", "-pk")


def saved_replies_visible_to(user: Any) -> QuerySet[SavedReply]:
    """Saved replies for every location, and for USER's locations."""
    rows = SavedReply.objects.select_related("location")
    if not sees_all_locations(user):
        rows = rows.filter(Q(location__isnull=True) | Q(location_id__in=user.location_ids))
    return rows.order_by("title", "pk")


def saved_reply_editable_by(user: Any, reply: SavedReply) -> bool:
    """Whether USER may change REPLY: one of their locations', or any when they see every location."""
    if sees_all_locations(user):
        return True
    return reply.location_id is not None and reply.location_id in user.location_ids
