"""Tables of the patient portal."""

from careline.portal.models.accounts import ALL_SECTIONS, PortalAccess, PortalAccount, PortalSection
from careline.portal.models.grants import PortalGrantInvitation
from careline.portal.models.help import FaqEntry, UrgentPhrase
from careline.portal.models.messages import PortalReadMark

__all__ = [
    "ALL_SECTIONS",
    "FaqEntry",
    "PortalAccess",
    "PortalAccount",
    "PortalGrantInvitation",
    "PortalReadMark",
    "PortalSection",
    "UrgentPhrase",
]
