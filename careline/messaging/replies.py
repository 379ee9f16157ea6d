"""The reply router: which feature answers a patient's text.

A feature that texts a question records a `Prompt` (messaging.models) with itself as owner, and registers
here, once at start-up (its AppConfig.ready): a handler for replies to its prompts, optionally a free-text
handler with an order, and the reply words it asks patients to send. Messaging never imports features.

Inbound processing routes every text in this order:

1. Compliance keywords (STOP, START, HELP and their equivalents) are acted on by messaging and never
   reach a feature (messaging/services/inbound.py).
2. The owner of the newest open, unexpired prompt on the number gets it (`PromptHandler`). Two features
   with open prompts on one number: the newest prompt wins. An older prompt of another feature stays open;
   it is answered later (its owner's free-text handler may take a later text), by staff from the inbox, or
   expires.
3. If that owner does not handle it, the free-text handlers in their declared order (lowest first; an
   owner already asked in step 2 is not asked again).
4. Nothing handled it: the text stays in the inbox (with the after-hours answer when closed).

Reply words of every feature are checked when registered: each is one short word of letters or digits, no
compliance keyword, and no word of another feature, so a start-up with a clash fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

if TYPE_CHECKING:
    from careline.messaging.models import Conversation, Message, Prompt

PromptHandler = Callable[["Conversation", "Message", "Prompt"], bool]
FreeTextHandler = Callable[["Conversation", "Message"], bool]


@dataclass
class ReplyOwner:
    """A feature that asks patients questions: its code, its handlers and its configured reply words."""

    code: str
    prompt_handler: PromptHandler
    free_text_handler: FreeTextHandler | None = None
    free_text_order: int = 100
    words: dict[str, str] = field(default_factory=dict)  # setting name -> word


_owners: dict[str, ReplyOwner] = {}


def reply_word_problem(word: str) -> str | None:
    """Why WORD cannot be a reply word (not one short word, or a compliance keyword); None when it can."""
    from careline.messaging.keywords import HELP_WORDS, OPT_IN_WORDS, OPT_OUT_WORDS, normalize_keyword

    if not word or not word.isalnum() or len(word) > 10:
        return f"must be one short word of letters or digits, got {word!r}"
    if normalize_keyword(word) in OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS:
        return (
            f"{word} is a compliance keyword (STOP, CANCEL, END, START, YES, HELP ...); carriers act on it "
            "themselves. Choose another word."
        )
    return None


def reply_owner_register(
    *,
    code: str,
    prompt_handler: PromptHandler,
    free_text_handler: FreeTextHandler | None = None,
    free_text_order: int = 100,
    words: Mapping[str, str] | None = None,
) -> ReplyOwner:
    """Register the feature CODE; ImproperlyConfigured when a reply word is invalid or another feature's."""
    words = {name: word.strip().upper() for name, word in (words or {}).items()}
    for name, word in words.items():
        problem = reply_word_problem(word)
        if problem:
            raise ImproperlyConfigured(f"{name}: {problem}")
    if len(set(words.values())) != len(words):
        raise ImproperlyConfigured(f"{', '.join(words)}: the reply words of {code} must differ")
    for other in _owners.values():
        if other.code == code:
            continue
        for name, word in words.items():
            for other_name, other_word in other.words.items():
                if word == other_word:
                    raise ImproperlyConfigured(
                        f"{name}: {word} is already the reply word {other_name} of {other.code}"
                    )
    owner = ReplyOwner(
        code=code,
        prompt_handler=prompt_handler,
        free_text_handler=free_text_handler,
        free_text_order=free_text_order,
        words=words,
    )
    _owners[code] = owner
    return owner


def reply_owner_unregister(code: str) -> None:
    """Forget the feature CODE (tests that register a feature of their own clean up with this)."""
    _owners.pop(code, None)


def reply_owners() -> list[ReplyOwner]:
    """The registered features, in free-text order."""
    return sorted(_owners.values(), key=lambda o: o.free_text_order)


def prompt_newest_open(*, phone_number: str, now: datetime) -> Prompt | None:
    """The newest prompt to PHONE_NUMBER still waiting for a reply (open and unexpired), of any owner."""
    from careline.messaging.models import Prompt, PromptState

    return (
        Prompt.objects.filter(phone_number=phone_number, state=PromptState.OPEN, expires_at__gt=now)
        .order_by("-created_at", "-id")
        .first()
    )


def reply_route(conversation: Conversation, message: Message) -> bool:
    """Offer MESSAGE (not a keyword) to the newest open prompt's owner, then the free-text handlers."""
    asked: set[str] = set()
    prompt = prompt_newest_open(phone_number=conversation.contact, now=timezone.now())
    if prompt is not None and prompt.owner in _owners:
        asked.add(prompt.owner)
        if _owners[prompt.owner].prompt_handler(conversation, message, prompt):
            return True
    for owner in reply_owners():
        if owner.code in asked or owner.free_text_handler is None:
            continue
        asked.add(owner.code)
        if owner.free_text_handler(conversation, message):
            return True
    return False
