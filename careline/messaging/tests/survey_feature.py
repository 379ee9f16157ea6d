"""A feature that exists only in tests: a one-question survey ("rate your visit 1-5") that asks through a
messaging Prompt and gets its answers from the reply router, without any code in messaging or scheduling."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from careline.messaging.models import Conversation, Message, Prompt, PromptState
from careline.messaging.replies import reply_owner_register, reply_owner_unregister
from careline.messaging.services.prompts import prompt_record

OWNER = "surveys"
SKIP_WORD = "S"  # the survey's own reply word: skip the question


@dataclass
class Survey:
    """The survey feature's state: the answers it received and the texts offered to it as free text."""

    answers: list[tuple[int, str]] = field(default_factory=list)
    free_texts: list[str] = field(default_factory=list)
    prompt_calls: int = 0

    def ask(self, number: str, *, minutes: int = 60) -> Prompt:
        """Text NUMBER the question (the row only; how it is sent is not the router's business)."""
        return prompt_record(
            owner=OWNER,
            kind="rating",
            phone_number=number,
            options=["1", "2", "3", "4", "5", SKIP_WORD],
            expires_at=timezone.now() + timedelta(minutes=minutes),
        )

    def handle_reply(self, conversation: Conversation, message: Message, prompt: Prompt) -> bool:
        """An answer to one of the survey's prompts; anything but an offered option is declined."""
        self.prompt_calls += 1
        word = (message.body or "").strip().upper()
        if prompt.owner != OWNER or word not in prompt.options:
            return False
        if Prompt.objects.filter(pk=prompt.pk, owner=OWNER, state=PromptState.OPEN).update(
            state=PromptState.ANSWERED
        ):
            self.answers.append((prompt.pk, word))
        return True

    def handle_free_text(self, conversation: Conversation, message: Message) -> bool:
        """Free text: the survey only takes 'survey please' (to show the declared order is followed)."""
        self.free_texts.append(message.body)
        return (message.body or "").strip().lower() == "survey please"


@contextmanager
def survey_registered() -> Iterator[Survey]:
    """The survey feature, registered with the router until the block ends (a test's fixture uses it)."""
    feature = Survey()
    reply_owner_register(
        code=OWNER,
        prompt_handler=feature.handle_reply,
        free_text_handler=feature.handle_free_text,
        free_text_order=50,
        words={"SURVEY_SKIP": SKIP_WORD},
    )
    try:
        yield feature
    finally:
        reply_owner_unregister(OWNER)
