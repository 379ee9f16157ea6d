"""Tables of the patient portal."""

from careline.portal.models.accounts import ALL_SECTIONS, PortalAccess, PortalAccount, PortalSection
from careline.portal.models.grants import PortalGrantInvitation

__all__ = ["ALL_SECTIONS", "PortalAccess", "PortalAccount", "PortalGrantInvitation", "PortalSection"]
