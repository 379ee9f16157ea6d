"""What Twilio's answers mean to the pipeline: shared by the one-at-a-time and the asynchronous send paths."""

from __future__ import annotations

from twilio.base.exceptions import TwilioRestException

from careline.messaging.channels.base import ProviderError

TWILIO_API = "https://api.twilio.com"

TEMPORARY_CODES = frozenset({30003})
RATE_LIMITED_CODE = 20429  # "Too Many Requests": nothing was accepted; send again a moment later
INVALID_NUMBER_CODES = frozenset({21211, 30005, 21614})
LANDLINE_CODES = frozenset({30006})
UNSUBSCRIBED_CODES = frozenset({21610})


def error_from_twilio(exc: TwilioRestException) -> ProviderError:
    """The ProviderError a refusal from Twilio stands for (permanent, temporary, or over the rate)."""
    status = int(exc.status or 0)
    try:
        code = int(exc.code) if exc.code is not None else None
    except (TypeError, ValueError):
        code = None
    label = str(code or status)
    text = f"Twilio answered {status}" + (f" (error {code})" if code else "")
    if code in UNSUBSCRIBED_CODES:
        return ProviderError(
            f"{text}: the recipient unsubscribed", permanent=True, code=label, opted_out=True
        )
    if code in LANDLINE_CODES:
        return ProviderError(
            f"{text}: a landline or unreachable carrier", permanent=True, code=label, landline=True
        )
    if code in INVALID_NUMBER_CODES:
        return ProviderError(f"{text}: the number is not valid", permanent=True, code=label)
    if code == RATE_LIMITED_CODE or status == 429:
        return ProviderError(f"{text}: over the sending rate", permanent=False, code=label, rate_limited=True)
    if code in TEMPORARY_CODES or status >= 500:
        return ProviderError(f"{text}: temporary", permanent=False, code=label)
    return ProviderError(text, permanent=True, code=label)
