"""The channel-type plugin interface: every provider is a package with a `type.py` defining a ChannelType.

Nothing outside a type's package branches on its code. A type declares what it can do and which
configuration it needs, and implements sending, inbound verification and parsing, and status callbacks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from django.http import HttpRequest

if TYPE_CHECKING:
    from careline.messaging.models import Channel, Message


class ProviderError(Exception):
    """A provider refused or failed a request. `permanent` errors are never retried."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: str = "",
        opted_out: bool = False,
        landline: bool = False,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.opted_out = opted_out
        self.landline = landline
        self.ambiguous = ambiguous


class InboundRejected(Exception):
    """An inbound request failed verification (bad signature): answer 403 and store nothing."""


@dataclass(frozen=True)
class ConfigField:
    """One setting of a channel type. A `secret` field holds the name of an environment variable."""

    name: str
    label: str
    required: bool = True
    secret: bool = False
    help_text: str = ""


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    state: str = "sent"


@dataclass(frozen=True)
class InboundMessage:
    provider_message_id: str
    from_address: str
    to_address: str
    body: str
    media: list[dict[str, str]] = field(default_factory=list)
    opt_out_type: str = ""  # what the provider did with a keyword: "STOP", "START", "HELP" or ""


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str
    state: str  # one of MessageState's delivery states
    error_code: str = ""
    error_message: str = ""
    at: datetime | None = None
    opted_out: bool = False  # the provider says the recipient unsubscribed
    landline: bool = False  # the provider says the number cannot receive texts


class ChannelType(ABC):
    """Base class of channel types."""

    code: ClassVar[str]
    name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]] = frozenset({"sms"})
    config_fields: ClassVar[tuple[ConfigField, ...]] = ()
    redact_keys: ClassVar[frozenset[str]] = frozenset({"Body", "body", "To", "From", "to", "from"})
    max_attempts: ClassVar[int] = 5

    @abstractmethod
    def send(self, channel: Channel, message: Message) -> SendResult:
        """Hand MESSAGE to the provider; ProviderError when it refuses or fails."""

    def verify_inbound(self, channel: Channel, request: HttpRequest) -> None:
        """Raise InboundRejected unless REQUEST truly comes from the provider."""
        raise InboundRejected("this channel type takes no inbound requests")

    def parse_inbound(self, channel: Channel, request: HttpRequest) -> InboundMessage:
        raise InboundRejected("this channel type takes no inbound requests")

    def parse_status(self, channel: Channel, request: HttpRequest) -> StatusUpdate:
        raise InboundRejected("this channel type takes no status callbacks")

    def secret(self, channel: Channel, field_name: str) -> str:
        """The secret named by FIELD_NAME: the channel's config names the environment variable holding it."""
        import os

        variable = str(channel.config.get(field_name) or "")
        value = os.environ.get(variable, "") if variable else ""
        if not value:
            raise ProviderError(
                f"environment variable {variable or '(unset)'} for {field_name} is empty",
                permanent=True,
                code="config",
            )
        return value

    def redact(self, data: dict[str, Any]) -> dict[str, Any]:
        """DATA with patient content and addresses masked, for logs."""
        return {key: ("[redacted]" if key in self.redact_keys else value) for key, value in data.items()}
