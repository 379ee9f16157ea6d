"""The built-in test provider: a clearly labelled test payment page inside Careline; no money moves.

The embedded default and the demo use it. Its page takes a test card number (4242 4242 4242 4242 pays,
4000 0000 0000 0002 is declined) and reports the outcome the way a real provider does: a signed event posted
to its webhook handler (`card_webhook_receive`, the same code `/billing/providers/test/webhook` runs), so the
whole path from checkout to recorded payment and receipt is exercised without an account anywhere.
"""

from careline.billing.providers.test_provider.provider import (
    DECLINED_CARD,
    PAYING_CARD,
    BuiltinTestProvider,
    card_event,
    card_event_sign,
    card_webhook_receive,
)

__all__ = [
    "DECLINED_CARD",
    "PAYING_CARD",
    "BuiltinTestProvider",
    "card_event",
    "card_event_sign",
    "card_webhook_receive",
]
