"""Tables of the portal app."""

from careline.portal.models.help import FaqEntry, UrgentPhrase

__all__ = ["FaqEntry", "UrgentPhrase"]
