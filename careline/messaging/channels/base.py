"""The channel-type plugin interface: every provider is a package with a `type.py` defining a ChannelType,
installed by one line in settings.CARELINE_CHANNEL_TYPES.

Nothing outside a type's package branches on its code. A type declares what it can do and which
configuration it needs, and implements sending, inbound verification and parsing, and status callbacks;
every other method the pipeline calls has a safe default here, so the pipeline never asks "which type?".
"""

from __future__ import annotations

import ipaddress
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest

from careline.core.registry import Plugin

if TYPE_CHECKING:
    from careline.messaging.models import Channel, Message


# A channel configured in the UI may name only variables that cannot be one of Careline's own settings (or a
# deployment's other secrets): CARELINE_SECRET_<NAME>, or a pattern its type adds (Twilio: <NAME>_TWILIO_AUTH_TOKEN).
SECRET_VARIABLE_PATTERN = re.compile(r"CARELINE_SECRET_[A-Z0-9_]{1,64}")
SECRET_VARIABLE_EXAMPLE = "CARELINE_SECRET_<NAME>"  # noqa: S105 - a naming rule, not a secret
ENVIRONMENT_SOURCE = "environment"  # Channel.Source.ENVIRONMENT: rows made from the operator's variables


def outgoing_url_problem(url: str, *, always_allowed: Iterable[str] = ()) -> str:
    """Why Careline must not send requests (with credentials) to URL; "" when it may.

    https to a host in CARELINE_CHANNEL_API_HOSTS (or ALWAYS_ALLOWED); loopback, over http or https, only
    when CARELINE_ENV=development (the test doubles).
    """
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().rstrip(".")
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "must be an https:// address"
    if parts.username or parts.password:
        return "must not contain a user name or password"
    if parts.query or parts.fragment:
        return "must not contain a query or fragment"
    if _is_loopback(host):
        if settings.CARELINE_ENV == "development":
            return ""
        return "may point at this machine (loopback) only when CARELINE_ENV=development"
    if parts.scheme != "https":
        return "must be an https:// address"
    if host in set(always_allowed) or _host_allowed(host, settings.CARELINE_CHANNEL_API_HOSTS):
        return ""
    return f"uses host {host}, which is not in CARELINE_CHANNEL_API_HOSTS"


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_allowed(host: str, allowed: Iterable[str]) -> bool:
    for entry in allowed:
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return True
        if host == entry:
            return True
    return False


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
        rate_limited: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.opted_out = opted_out
        self.landline = landline
        self.ambiguous = ambiguous
        # The provider refused for its sending rate (429): the message waits and goes again, not a failure.
        self.rate_limited = rate_limited


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
class RateLimit:
    """At most PER_SECOND sends a second under KEY (e.g. "twilio:AC...:number:+15551234567"), held by
    outbound/ratelimit.py across every worker and host."""

    key: str
    per_second: float


@dataclass(frozen=True)
class SendJob:
    """One message to hand to the provider, not before AT (this process's time.monotonic()), and not
    more than SLOT_LATENESS_SECONDS after it: a send that goes late could crowd the next second's sends
    into one window, so it is not made (`late_for_slot`) and takes a new slot instead."""

    message: Message
    at: float = 0.0

    def late(self, now: float) -> bool:
        return bool(self.at) and now - self.at > SLOT_LATENESS_SECONDS


# Well under what the limiter's headroom leaves a second (outbound/ratelimit.py: 10% of the slots, 111 ms).
SLOT_LATENESS_SECONDS = 0.05
LATE_FOR_SLOT = "late-for-slot"


def late_for_slot() -> ProviderError:
    """The answer for a job whose slot passed before it could go out: nothing was sent."""
    return ProviderError(
        "the send slot passed before the request could go", permanent=False, code=LATE_FOR_SLOT
    )


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


class ChannelType(Plugin, ABC):
    """Base class of channel types."""

    code: ClassVar[str]
    name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]] = frozenset({"sms"})
    # How messages about the channel from environment variables name them (e.g. "TWILIO_*").
    environment_label: ClassVar[str] = ""
    config_fields: ClassVar[tuple[ConfigField, ...]] = ()
    redact_keys: ClassVar[frozenset[str]] = frozenset({"Body", "body", "To", "From", "to", "from"})
    max_attempts: ClassVar[int] = 5
    # Extra names a UI-configured channel of this type may give its secret (besides CARELINE_SECRET_<NAME>).
    secret_variable_patterns: ClassVar[tuple[tuple[re.Pattern[str], str], ...]] = ()
    # Messages that never leave Careline (the patient reads them signed in, as in the portal): no phone or
    # mailbox is involved, so "confidential communications" does not stop them and quiet hours do not hold them.
    stays_in_careline: ClassVar[bool] = False
    # Whether send_many keeps many requests in flight (an asynchronous client): a batch of hundreds then goes
    # out from one task as fast as from several, so code making messages in bulk may send them itself.
    sends_many_at_once: ClassVar[bool] = False
    # A short label the inbox shows beside conversations of this type ("" shows none).
    inbox_label: ClassVar[str] = ""
    # Whether administrators add channels of this type under Settings -> Channels (the portal's is made by
    # Careline itself and has nothing to configure).
    configurable: ClassVar[bool] = True

    @abstractmethod
    def send(self, channel: Channel, message: Message) -> SendResult:
        """Hand MESSAGE to the provider; ProviderError when it refuses or fails."""

    def send_many(
        self,
        channel: Channel,
        jobs: Sequence[SendJob],
        *,
        still_claimed: Callable[[Message], bool] | None = None,
    ) -> list[SendResult | ProviderError | None]:
        """Hand each job's message to the provider at its time; each one's result or error, in order.

        This default sends one after another, first asking STILL_CLAIMED (a long batch renews its claims;
        None: a sweep took the message back, so it is not sent here); a type with an asynchronous client
        keeps many in flight and finishes a batch well within the claim's time.
        """
        results: list[SendResult | ProviderError | None] = []
        for job in jobs:
            delay = job.at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if still_claimed is not None and not still_claimed(job.message):
                results.append(None)
                continue
            if job.late(time.monotonic()):
                results.append(late_for_slot())
                continue
            try:
                results.append(self.send(channel, job.message))
            except ProviderError as error:
                results.append(error)
        return results

    def send_prepare(self, channel: Channel) -> None:
        """Open what sending needs (a client, its connections) before slots are taken for a batch: time
        spent on it afterwards would make the first sends late for their slots."""

    def rate_limits(self, channel: Channel, message: Message) -> list[RateLimit]:
        """The limits MESSAGE is sent under: the channel's own rate, and those a type adds (its sender's)."""
        if not channel.rate_per_second:
            return []
        return [RateLimit(f"channel:{channel.pk}", float(channel.rate_per_second))]

    def send_to_staff(self, channel: Channel, *, to_address: str, subject: str, body: str) -> SendResult:
        """Hand a notice for a member of staff (an on-call page) to the provider; ProviderError on failure.

        Not a patient message: no conversation, consent or quiet hours; no status callback. A type that cannot
        reach staff keeps this default (a permanent error).
        """
        raise ProviderError(
            f"{self.name} channels cannot send notices to staff", permanent=True, code="unsupported"
        )

    def verify_inbound(self, channel: Channel, request: HttpRequest) -> None:
        """Raise InboundRejected unless REQUEST truly comes from the provider."""
        raise InboundRejected("this channel type takes no inbound requests")

    def parse_inbound(self, channel: Channel, request: HttpRequest) -> InboundMessage:
        raise InboundRejected("this channel type takes no inbound requests")

    def parse_status(self, channel: Channel, request: HttpRequest) -> StatusUpdate:
        raise InboundRejected("this channel type takes no status callbacks")

    def find_sent(self, channel: Channel, message: Message, *, since: datetime) -> str | None:
        """The provider's id for MESSAGE if it already accepted it (sent since SINCE); None if it cannot tell.

        Asked after an ambiguous attempt (a timeout) and for rows whose worker died while sending.
        """
        return None

    def environment_channel(self) -> dict[str, Any] | None:
        """The Channel fields this type's environment variables describe (read from settings), `default_for`
        naming the kind it is the default of; None when they describe none. One such channel at most."""
        return None

    def environment_problem(self) -> str:
        """Why this type's environment variables describe no usable channel; "" when they do or are unset."""
        return ""

    def fallback_channel(self, kind: str) -> dict[str, Any] | None:
        """Fields of the channel Careline creates by itself when no default channel of KIND exists; None."""
        return None

    def fetch_media(self, channel: Channel, url: str, *, max_bytes: int) -> bytes:
        """The file at URL (media a patient sent, hosted by the provider); ProviderError when it cannot be had."""
        raise ProviderError("this channel type does not fetch media", permanent=True, code="media")

    def secret_variable_rule(self) -> str:
        """The names a UI-configured channel of this type may give a secret, for help texts and errors."""
        return " or ".join(
            [SECRET_VARIABLE_EXAMPLE, *(example for _, example in self.secret_variable_patterns)]
        )

    def secret_variable_problem(self, variable: str) -> str:
        """Why VARIABLE may not hold a secret of a UI-configured channel; "" when it may."""
        patterns = [SECRET_VARIABLE_PATTERN, *(pattern for pattern, _ in self.secret_variable_patterns)]
        if any(pattern.fullmatch(variable) for pattern in patterns):
            return ""
        return f"must be named {self.secret_variable_rule()} (it cannot name one of Careline's own settings)"

    def config_problems(self, config: dict[str, Any], *, source: str) -> dict[str, str]:
        """Problems of CONFIG by field name; a type adds its own (e.g. allow-listed URLs)."""
        if source == ENVIRONMENT_SOURCE:
            return {}  # written from the operator's own variables, never from a form
        problems = {}
        for spec in self.config_fields:
            variable = str(config.get(spec.name) or "")
            if spec.secret and variable:
                problem = self.secret_variable_problem(variable)
                if problem:
                    problems[spec.name] = f"The variable {problem}."
        return problems

    def config_check(self, channel: Channel) -> None:
        """ProviderError (permanent) when CHANNEL's stored configuration may not be used, before any request."""
        problems = self.config_problems(channel.config or {}, source=channel.source)
        if problems:
            field_name, problem = next(iter(problems.items()))
            raise ProviderError(
                f"channel configuration refused ({field_name}): {problem}", permanent=True, code="config"
            )

    def secret(self, channel: Channel, field_name: str) -> str:
        """The secret named by FIELD_NAME: the channel's config names the environment variable holding it."""
        self.config_check(channel)
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
