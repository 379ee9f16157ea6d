"""The care area's piece of the portal's Home: the check-in waiting for an answer (imported by ready())."""

from __future__ import annotations

from careline.care.services.portal_readings import portal_checkins_due
from careline.portal.access import PortalSession
from careline.portal.home import HomeCard, home_card
from careline.portal.models import PortalSection


@home_card(order=15)
def checkin_due_card(session: PortalSession) -> HomeCard | None:
    """A check-in of the open record waits in the portal (nothing when none, or the section not granted)."""
    if not session.may(PortalSection.CARE):
        return None
    due = portal_checkins_due(session.patient)
    if not due:
        return None
    return HomeCard(template="portal/care/_home_checkin.html", context={"count": len(due)})
