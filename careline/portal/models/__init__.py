"""Tables of the patient portal."""

from careline.portal.models.accounts import ALL_SECTIONS, PortalAccess, PortalAccount, PortalSection

__all__ = ["ALL_SECTIONS", "PortalAccess", "PortalAccount", "PortalSection"]
