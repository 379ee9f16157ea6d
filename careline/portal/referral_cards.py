"""The referrals card on the portal's Home: the open record's open referrals, with how to reach each provider.

Imported by PortalConfig.ready() so the card is registered. Only the provider and the state are shown, never the
reason (staff-only); a mental-health provider's card carries the 988 line, as its texts do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from careline.portal.home import HomeCard, home_card
from careline.portal.models import PortalSection
from careline.referrals.models import OPEN_STATES, ProviderKind, Referral

if TYPE_CHECKING:
    from careline.portal.access import PortalSession


@home_card(order=40)
def referrals_card(session: PortalSession) -> HomeCard | None:
    """The open record's open referrals (one query); nothing when there are none or records are not granted."""
    if not session.may(PortalSection.RECORDS):
        return None
    referrals = list(
        Referral.objects.filter(patient_id=session.patient.pk, state__in=OPEN_STATES)
        .select_related("provider")
        .only("state", "provider__name", "provider__kind", "provider__phone", "provider__website")
        .order_by("-created_at", "-id")[:5]
    )
    if not referrals:
        return None
    crisis = any(r.provider.kind == ProviderKind.MENTAL_HEALTH for r in referrals)
    return HomeCard(
        template="portal/referrals/_home_referrals.html", context={"referrals": referrals, "crisis": crisis}
    )
