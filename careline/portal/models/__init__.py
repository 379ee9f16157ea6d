"""Tables of the patient portal."""

from careline.portal.models.accounts import ALL_SECTIONS, PortalAccess, PortalAccount, PortalSection
from careline.portal.models.grants import PortalGrantInvitation
from careline.portal.models.help import FaqEntry, UrgentPhrase
from careline.portal.models.messages import PortalReadMark
from careline.portal.models.signin import (
    AttemptKind,
    CodePurpose,
    ContactChannel,
    PortalAttempt,
    PortalCode,
    PortalInvitation,
    PortalInvitationBatch,
)

__all__ = [
    "ALL_SECTIONS",
    "AttemptKind",
    "CodePurpose",
    "ContactChannel",
    "FaqEntry",
    "PortalAccess",
    "PortalAccount",
    "PortalAttempt",
    "PortalCode",
    "PortalGrantInvitation",
    "PortalInvitation",
    "PortalInvitationBatch",
    "PortalReadMark",
    "PortalSection",
    "UrgentPhrase",
]
