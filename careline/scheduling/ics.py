"""Add-to-calendar files: an unguessable, expiring link per appointment that needs no sign-in.

The token is the appointment id signed with SECRET_KEY (django.core.signing) plus an expiry a week after
the visit ends; the file itself holds only the location, the time and a neutral summary.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from django.conf import settings
from django.core import signing
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from icalendar import Calendar, Event

from careline.scheduling.models import Appointment

ICS_SALT = "careline.scheduling.ics"
LINK_LIFETIME_AFTER_VISIT = timedelta(days=7)


def ics_token(appointment: Appointment) -> str:
    """A signed token naming APPOINTMENT, valid until a week after the visit."""
    expires = int((appointment.ends_at + LINK_LIFETIME_AFTER_VISIT).timestamp())
    return signing.dumps({"a": appointment.pk, "e": expires}, salt=ICS_SALT, compress=True)


def _ics_path(token: str) -> str:
    try:
        return reverse("scheduling:appointment_ics", args=[token])
    except NoReverseMatch:  # URLs not mounted (a bare worker configuration): keep the documented shape
        return f"/schedule/ics/{token}.ics"


def ics_url(appointment: Appointment) -> str:
    """The public add-to-calendar URL of APPOINTMENT."""
    return f"{settings.PUBLIC_BASE_URL}{_ics_path(ics_token(appointment))}"


def ics_path_around() -> tuple[str, str]:
    """What comes before and after a token in ics_url (for a token of characters a URL keeps as they are)."""
    marker = "TOKEN"
    before, after = _ics_path(marker).rsplit(marker, 1)
    return f"{settings.PUBLIC_BASE_URL}{before}", after


def ics_appointment_for_token(token: str) -> Appointment | None:
    """The appointment TOKEN names, following moves to the current time; None when forged or expired."""
    try:
        payload = signing.loads(token, salt=ICS_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("e", 0) < timezone.now().timestamp():
        return None
    appointment_id = payload.get("a")
    if not isinstance(appointment_id, int):
        return None
    appointment = (
        Appointment.objects.select_related("location", "appointment_type").filter(pk=appointment_id).first()
    )
    # A moved visit: the old link shows the new time (a bounded walk along rescheduled_to).
    for _ in range(20):
        if appointment is None:
            return None
        follower = (
            Appointment.objects.select_related("location", "appointment_type")
            .filter(rescheduled_from=appointment)
            .first()
        )
        if follower is None:
            break
        appointment = follower
    return appointment


def ics_calendar(appointment: Appointment) -> bytes:
    """An iCalendar file for APPOINTMENT (cancelled visits are marked CANCELLED so calendars drop them)."""
    location = appointment.location
    kind = appointment.appointment_type
    calendar = Calendar()
    calendar.add("prodid", "-//Careline//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@careline")
    summary = f"{kind.name} at {location.name}" if kind.name_safe_to_text else f"Visit at {location.name}"
    event.add("summary", summary)
    event.add("location", f"{location.name}, {location.address}")
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("dtstamp", timezone.now().astimezone(UTC))
    if not appointment.is_active:
        event.add("status", "CANCELLED")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
