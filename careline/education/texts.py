"""What education texts say: that the care team shared something to read, never its title or topic."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

# Rendered by the safe renderer with {clinic_name} and {link}. The title could name a condition: never sent.
ITEM_SHARED = pgettext_lazy(
    "education item shared",
    "Your care team at {clinic_name} shared something for you to read or watch: {link}",
)
ITEM_SHARED_SUBJECT = pgettext_lazy(
    "education item shared email subject", "Something to read from your care team"
)
