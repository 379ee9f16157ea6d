"""What records texts say to patients: that a result is ready, never which test or its value."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

# Rendered by the safe renderer with a patient's fields ({first_name}, {clinic_name}, {link}).
RESULT_READY = pgettext_lazy(
    "result ready notice",
    "Hi {first_name}, you have a new test result from {clinic_name}. Sign in to your patient portal to see "
    "it: {link}",
)
RESULT_READY_SUBJECT = pgettext_lazy("result ready email subject", "A new test result is ready")
