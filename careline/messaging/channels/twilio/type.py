"""Twilio SMS/MMS through the official `twilio` client.

The client is cached per process and channel so its HTTP connections are reused (a worker sends many
messages). `api_base_url` replaces https://api.twilio.com for Twilio-compatible providers and the
loopback test double. Status callbacks carry the message id (`?m=`), so a callback that arrives before
the worker stored Twilio's SID still finds its row.

Errors: 5xx, connection failures and 30003 are temporary; 429 (20429) is the provider's rate, retried
without counting as an attempt; a read timeout after the request went
out is ambiguous (Twilio may have accepted it: `find_sent` asks Twilio); 21211/30005 (invalid number),
30006 (landline), 21610 (unsubscribed) and other 4xx are permanent.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.urls import reverse
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from careline.messaging.channels.base import (
    ENVIRONMENT_SOURCE,
    ChannelType,
    ConfigField,
    InboundMessage,
    InboundRejected,
    ProviderError,
    RateLimit,
    SendJob,
    SendResult,
    StatusUpdate,
    outgoing_url_problem,
)
from careline.messaging.channels.twilio.async_send import twilio_send_many, twilio_send_prepare
from careline.messaging.channels.twilio.errors import (
    LANDLINE_CODES,
    TWILIO_API,
    UNSUBSCRIBED_CODES,
    error_from_twilio,
)
from careline.messaging.services.attachments import media_url_allowed

if TYPE_CHECKING:
    from careline.messaging.models import Channel, Message

logger = logging.getLogger(__name__)

TWILIO_API_HOST = "api.twilio.com"
DEFAULT_TIMEOUT_SECONDS = 10.0
FIND_SENT_SKEW = timedelta(minutes=5)  # clocks of Careline and the provider may differ a little
FIND_SENT_LIMIT = 50
ENV_TWILIO_NAME = "Twilio (from environment)"
ENV_TOKEN_VARIABLE = "TWILIO_AUTH_TOKEN"  # noqa: S105 - a variable name, not a secret
MEDIA_MAX_REDIRECTS = 3  # Twilio answers a media URL with a redirect to its file store


# Twilio's message statuses -> Careline's delivery states ("receiving"/"received" are inbound only).
STATUS_MAP = {
    "accepted": "sending",
    "scheduled": "sending",
    "queued": "sending",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
}


class _BaseUrlHttpClient(TwilioHttpClient):
    """The twilio HTTP client, pointed at API_BASE_URL instead of https://api.twilio.com, logging no content."""

    def __init__(self, *, base_url: str, timeout: float) -> None:
        super().__init__(pool_connections=True, timeout=timeout, logger=logger)
        self.base_url = base_url.rstrip("/")
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)
        assert self.session is not None
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if self.base_url and url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )

    def log_request(self, kwargs: dict[str, Any]) -> None:
        """Method and path only: query strings and bodies hold phone numbers and message text."""
        logger.debug("twilio %s %s", kwargs["method"], str(kwargs["url"]).split("?", 1)[0])

    def log_response(self, status_code: int, response: Any) -> None:
        logger.debug("twilio answered %s", status_code)


_clients: dict[tuple[Any, ...], Client] = {}
_clients_lock = threading.Lock()

CHANNEL_CACHE_SECONDS = 30.0
CACHE_MAX_ENTRIES = 256  # the keys come from webhook fields: bounded so no one can grow them forever
_channels: dict[tuple[str, str, str], tuple[float, Channel]] = {}
_validators: dict[str, RequestValidator] = {}


def _status_callback_url(message: Message) -> str:
    return f"{settings.PUBLIC_BASE_URL}{reverse('webhook-twilio-status')}?m={message.pk}"


def _absolute(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else f"{settings.PUBLIC_BASE_URL}/{url.lstrip('/')}"


def _connection_failed_before_sending(exc: requests.ConnectionError) -> bool:
    """True when the request surely never reached the provider (refused, or no connection in time)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = repr(exc.args[0]) if exc.args else ""
    return "NewConnectionError" in reason or "NameResolutionError" in reason


class _Cleaned:
    """Form values without NUL characters, which PostgreSQL text columns refuse."""

    def __init__(self, data: Any) -> None:
        self.data = data

    def get(self, key: str, default: str = "") -> str:
        return str(self.data.get(key, default) or default).replace("\x00", "")


class TwilioType(ChannelType):
    code = "twilio"
    name = "Twilio"
    capabilities = frozenset({"sms", "mms"})
    environment_label = "TWILIO_*"
    sends_many_at_once = True  # send_many: the asynchronous client (async_send.py)
    config_fields = (
        ConfigField("account_sid", "Account SID", help_text="Starts with AC"),
        ConfigField(
            "auth_token_env",
            "Auth token variable",
            secret=True,
            help_text="Name of the environment variable holding the auth token, e.g. LAKESIDE_TWILIO_AUTH_TOKEN",
        ),
        ConfigField("from_number", "Sender number", required=False, help_text="E.164, e.g. +15551234567"),
        ConfigField(
            "messaging_service_sid",
            "Messaging Service SID",
            required=False,
            help_text="Starts with MG; used instead of a sender number",
        ),
        ConfigField(
            "api_base_url",
            "API base URL",
            required=False,
            help_text="Blank for Twilio; for a Twilio-compatible provider, an https address on a host "
            "listed in CARELINE_CHANNEL_API_HOSTS",
        ),
        ConfigField("timeout_seconds", "Timeout (seconds)", required=False, help_text="Default 10"),
    )
    redact_keys = frozenset({"Body", "body", "To", "From", "to", "from", "from_"}) | frozenset(
        f"MediaUrl{i}" for i in range(10)
    )
    secret_variable_patterns = (
        (re.compile(r"[A-Z][A-Z0-9_]{0,63}_TWILIO_AUTH_TOKEN"), "<NAME>_TWILIO_AUTH_TOKEN"),
    )

    def config_problems(self, config: dict[str, Any], *, source: str) -> dict[str, str]:
        """The base rules, and an API base URL only on an allow-listed https host (loopback in development)."""
        problems = super().config_problems(config, source=source)
        base_url = str(config.get("api_base_url") or "")
        if base_url and source != ENVIRONMENT_SOURCE:
            problem = outgoing_url_problem(base_url, always_allowed=(TWILIO_API_HOST,))
            if problem:
                problems["api_base_url"] = f"The API base URL {problem}."
        return problems

    # /webhooks/twilio/messages (inbound texts) and /webhooks/twilio/status (delivery callbacks).
    urls_module = "careline.messaging.channels.twilio.urls"

    # --- the channel from TWILIO_* environment variables ----------------------------------------------------

    def environment_channel(self) -> dict[str, Any] | None:
        """The channel TWILIO_* describe (the default for texts); None when they do not describe one."""
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN_SET):
            return None
        if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
            return None
        config = {
            "account_sid": settings.TWILIO_ACCOUNT_SID,
            "auth_token_env": ENV_TOKEN_VARIABLE,
            "from_number": settings.TWILIO_FROM_NUMBER or "",
            "messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID or "",
            "api_base_url": settings.TWILIO_API_BASE_URL or "",
        }
        rate = float(settings.TWILIO_RATE_PER_SECOND) if settings.TWILIO_RATE_PER_SECOND else None
        return {
            "name": ENV_TWILIO_NAME,
            "type_code": self.code,
            "address": settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID or "",
            "config": config,
            "is_active": True,
            "keyword_replies": settings.TWILIO_KEYWORD_REPLIES,
            "rate_per_second": rate,
            "default_for": "sms",
        }

    def environment_problem(self) -> str:
        """Why TWILIO_* describe no usable channel ("" when they do, or when none is set)."""
        if not (settings.TWILIO_ACCOUNT_SID or settings.TWILIO_AUTH_TOKEN_SET):
            return ""
        if not settings.TWILIO_ACCOUNT_SID:
            return "TWILIO_AUTH_TOKEN is set but TWILIO_ACCOUNT_SID is not"
        if not settings.TWILIO_AUTH_TOKEN_SET:
            return "TWILIO_ACCOUNT_SID is set but TWILIO_AUTH_TOKEN is not"
        if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
            return "TWILIO_ACCOUNT_SID is set but neither TWILIO_FROM_NUMBER nor TWILIO_MESSAGING_SERVICE_SID"
        return ""

    # --- sending ------------------------------------------------------------------------------------------

    def client(self, channel: Channel) -> Client:
        """The cached client for CHANNEL in this process (a new one when its settings change)."""
        account_sid, token, base_url, timeout = self.client_settings(channel)
        # The pid is part of the key: a forked worker must not share its parent's connections.
        key = (os.getpid(), channel.pk, account_sid, token, base_url, timeout)
        client = _clients.get(key)
        if client is None:
            with _clients_lock:
                client = _clients.get(key)
                if client is None:
                    http = _BaseUrlHttpClient(base_url=base_url, timeout=timeout)
                    client = Client(account_sid, token, account_sid=account_sid, http_client=http)
                    _clients[key] = client
        return client

    def send_params(self, channel: Channel, message: Message) -> dict[str, Any]:
        """The arguments of Twilio's Messages create for MESSAGE."""
        config = channel.config or {}
        params: dict[str, Any] = {
            "to": message.to_address,
            "body": message.body or None,
            "status_callback": _status_callback_url(message),
        }
        if config.get("messaging_service_sid"):
            params["messaging_service_sid"] = config["messaging_service_sid"]
        else:
            params["from_"] = config.get("from_number") or channel.address
        media = [_absolute(item["url"]) for item in (message.media or []) if item.get("url")]
        if media:
            params["media_url"] = media
        return params

    def rate_limits(self, channel: Channel, message: Message) -> list[RateLimit]:
        """The channel's own rate, and its sender's: the number's (10DLC, toll-free, short code) or the
        Messaging Service's, keyed by account and sender so channels sharing a sender share its limit."""
        limits = super().rate_limits(channel, message)
        config = channel.config or {}
        account = str(config.get("account_sid") or "")
        service = str(config.get("messaging_service_sid") or "")
        if service:
            if settings.TWILIO_SERVICE_RATE_PER_SECOND:
                limits.append(
                    RateLimit(f"twilio:{account}:service:{service}", settings.TWILIO_SERVICE_RATE_PER_SECOND)
                )
        elif settings.TWILIO_NUMBER_RATE_PER_SECOND:
            number = str(config.get("from_number") or channel.address)
            limits.append(
                RateLimit(f"twilio:{account}:number:{number}", settings.TWILIO_NUMBER_RATE_PER_SECOND)
            )
        return limits

    def send_prepare(self, channel: Channel) -> None:
        """Start this process's sending loop and the channel's asynchronous client."""
        try:
            client_settings = self.client_settings(channel)
        except ProviderError:
            return  # send_many answers each job with the error
        twilio_send_prepare(channel, client_settings)

    def send_many(
        self,
        channel: Channel,
        jobs: Sequence[SendJob],
        *,
        still_claimed: Callable[[Message], bool] | None = None,
    ) -> list[SendResult | ProviderError | None]:
        """Many requests in flight at once through the twilio client's asynchronous HTTP client."""
        if len(jobs) == 1:
            return super().send_many(channel, jobs, still_claimed=still_claimed)
        try:
            client_settings = self.client_settings(channel)
        except ProviderError as error:
            return [error] * len(jobs)
        requests = [(job, self.send_params(channel, job.message)) for job in jobs]
        return list(twilio_send_many(channel, client_settings, requests))

    def client_settings(self, channel: Channel) -> tuple[str, str, str, float]:
        """Account SID, auth token, API base URL and timeout of CHANNEL (after checking its configuration)."""
        config = channel.config or {}
        # Before the token is read or any connection made: a stored row with a variable or URL the rules
        # refuse (saved before they existed) must never send the secret anywhere.
        self.config_check(channel)
        account_sid = str(config.get("account_sid") or "")
        if not account_sid:
            raise ProviderError("the channel has no account SID", permanent=True, code="config")
        token = self.secret(channel, "auth_token_env")
        base_url = str(config.get("api_base_url") or "")
        try:
            timeout = float(config.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
        except (TypeError, ValueError):
            timeout = DEFAULT_TIMEOUT_SECONDS
        return account_sid, token, base_url, max(0.01, timeout)

    def send(self, channel: Channel, message: Message) -> SendResult:
        client = self.client(channel)
        params = self.send_params(channel, message)
        try:
            created = client.api.v2010.accounts(client.account_sid).messages.create(**params)
        except TwilioRestException as exc:
            error = error_from_twilio(exc)
            logger.info("twilio refused message %s: %s", message.pk, error.code)
            raise error from None
        except requests.ReadTimeout as exc:
            # The request went out; Twilio may have accepted it. The pipeline asks `find_sent`.
            raise ProviderError(
                "Twilio did not answer in time", permanent=False, code="timeout", ambiguous=True
            ) from exc
        except requests.ConnectionError as exc:
            before = _connection_failed_before_sending(exc)
            raise ProviderError(
                "could not reach Twilio" if before else "the connection to Twilio broke",
                permanent=False,
                code="connection",
                ambiguous=not before,
            ) from exc
        except (requests.RequestException, TwilioException) as exc:
            raise ProviderError(
                f"Twilio client error: {type(exc).__name__}", permanent=False, code="client"
            ) from exc
        # Twilio answers "queued" or "accepted": it has the message, which is what Careline calls sent.
        return SendResult(provider_message_id=str(created.sid), state="sent")

    def send_to_staff(self, channel: Channel, *, to_address: str, subject: str, body: str) -> SendResult:
        """A text to a member of staff (an on-call page): no status callback, no media."""
        config = channel.config or {}
        client = self.client(channel)
        params: dict[str, Any] = {"to": to_address, "body": body}
        if config.get("messaging_service_sid"):
            params["messaging_service_sid"] = config["messaging_service_sid"]
        else:
            params["from_"] = config.get("from_number") or channel.address
        try:
            created = client.api.v2010.accounts(client.account_sid).messages.create(**params)
        except TwilioRestException as exc:
            raise error_from_twilio(exc) from None
        except (requests.RequestException, TwilioException) as exc:
            raise ProviderError(
                f"Twilio client error: {type(exc).__name__}", permanent=False, code="client"
            ) from exc
        return SendResult(provider_message_id=str(created.sid), state="sent")

    def find_sent(self, channel: Channel, message: Message, *, since: datetime) -> str | None:
        """Twilio's SID for MESSAGE if Twilio already has it (an attempt that timed out); None otherwise."""
        from careline.messaging.models import Message as MessageModel

        client = self.client(channel)
        try:
            listed = client.api.v2010.accounts(client.account_sid).messages.list(
                to=message.to_address, limit=FIND_SENT_LIMIT, page_size=FIND_SENT_LIMIT
            )
        except TwilioRestException as exc:
            raise error_from_twilio(exc) from None
        except (requests.RequestException, TwilioException) as exc:
            raise ProviderError(
                f"could not list Twilio messages: {type(exc).__name__}", permanent=False
            ) from exc
        earliest = since - FIND_SENT_SKEW
        candidates = [
            item
            for item in listed
            if (item.body or "") == (message.body or "")
            and item.sid
            and (item.date_created is None or item.date_created >= earliest)
        ]
        if not candidates:
            return None
        # A SID already on another row belongs to an earlier message with the same text.
        taken = set(
            MessageModel.objects.filter(channel=channel, provider_message_id__in=[c.sid for c in candidates])
            .exclude(pk=message.pk)
            .values_list("provider_message_id", flat=True)
        )
        free = [c for c in candidates if c.sid not in taken]
        if not free:
            return None
        free.sort(key=lambda c: c.date_created or datetime.min.replace(tzinfo=UTC))
        return str(free[0].sid)

    def fetch_media(self, channel: Channel, url: str, *, max_bytes: int) -> bytes:
        """An inbound MMS file, fetched with the channel's credentials from the provider's own API host only."""
        config = channel.config or {}
        client = self.client(channel)  # checks the channel's configuration first
        target = _provider_media_url(url, str(config.get("api_base_url") or ""))
        if target is None:
            raise ProviderError("the media address is not the provider's", permanent=True, code="media")
        http = client.http_client
        assert isinstance(http, _BaseUrlHttpClient) and http.session is not None
        origin = _origin(target)
        credentials = (str(client.username), str(client.password))
        try:
            for _ in range(MEDIA_MAX_REDIRECTS + 1):
                # Credentials go only to the provider's API host, never to where it redirects.
                auth = credentials if _origin(target) == origin else None
                with http.session.get(
                    target, auth=auth, stream=True, allow_redirects=False, timeout=http.timeout
                ) as response:
                    if response.is_redirect:
                        target = urljoin(target, response.headers.get("Location", ""))
                        if not media_url_allowed(target):
                            raise ProviderError(
                                "the media redirect is not https", permanent=True, code="media"
                            )
                        continue
                    return _read_media(response, max_bytes)
        except requests.RequestException as exc:
            raise ProviderError(
                f"could not fetch media: {type(exc).__name__}", permanent=False, code="media"
            ) from exc
        raise ProviderError("too many redirects fetching media", permanent=True, code="media")

    # --- inbound and status callbacks --------------------------------------------------------------------

    def verify_inbound(self, channel: Channel, request: HttpRequest) -> None:
        """Check X-Twilio-Signature against PUBLIC_BASE_URL + path + query, with the channel's auth token."""
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            raise InboundRejected("no X-Twilio-Signature")
        try:
            token = self.secret(channel, "auth_token_env")
        except ProviderError as exc:
            raise InboundRejected("the channel's auth token is not set") from exc
        url = f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"
        if not _signature_valid(_validator(token), url, request.POST, signature):
            raise InboundRejected("wrong X-Twilio-Signature")

    def parse_inbound(self, channel: Channel, request: HttpRequest) -> InboundMessage:
        data = _Cleaned(request.POST)
        sid = data.get("MessageSid") or data.get("SmsMessageSid") or data.get("SmsSid") or ""
        sender = data.get("From", "")
        if not sid or not sender:
            raise InboundRejected("MessageSid and From are required")
        try:
            count = min(int(data.get("NumMedia") or 0), 10)
        except ValueError:
            count = 0
        # Only https (http in development) addresses are kept: a javascript: or data: "URL" never reaches a page.
        media = [
            {
                "url": data.get(f"MediaUrl{i}", "")[:1000],
                "content_type": data.get(f"MediaContentType{i}", "")[:100],
            }
            for i in range(count)
            if data.get(f"MediaUrl{i}") and media_url_allowed(data.get(f"MediaUrl{i}"))
        ]
        return InboundMessage(
            provider_message_id=sid[:64],
            from_address=sender[:254],
            to_address=data.get("To", channel.address)[:254],
            body=data.get("Body", ""),
            media=media,
            opt_out_type=data.get("OptOutType", "").upper()[:10],
        )

    def parse_status(self, channel: Channel, request: HttpRequest) -> StatusUpdate:
        data = _Cleaned(request.POST)
        sid = data.get("MessageSid") or data.get("SmsSid") or ""
        status = (data.get("MessageStatus") or data.get("SmsStatus") or "").lower()
        state = STATUS_MAP.get(status, "")
        error_code = data.get("ErrorCode", "")
        return StatusUpdate(
            provider_message_id=sid[:64],
            state=state,
            error_code=error_code[:20],
            error_message=data.get("ErrorMessage", "")[:300]
            or (f"Twilio error {error_code}" if error_code else ""),
            opted_out=error_code.isdecimal() and int(error_code) in UNSUBSCRIBED_CODES,
            landline=error_code.isdecimal() and int(error_code) in LANDLINE_CODES,
        )


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _provider_media_url(url: str, base_url: str) -> str | None:
    """URL as the client reaches it (Twilio's host mapped to BASE_URL, like API calls); None when not the provider's."""
    if url.startswith(TWILIO_API + "/"):
        return (base_url.rstrip("/") + url[len(TWILIO_API) :]) if base_url else url
    if base_url and _origin(url) == _origin(base_url):
        return url
    return None


def _read_media(response: requests.Response, max_bytes: int) -> bytes:
    if response.status_code >= 400:
        temporary = response.status_code == 429 or response.status_code >= 500
        raise ProviderError(
            f"the provider answered {response.status_code} for the media",
            permanent=not temporary,
            code="media",
        )
    declared = response.headers.get("Content-Length", "")
    if declared.isdecimal() and int(declared) > max_bytes:
        raise ProviderError("the media is larger than allowed", permanent=True, code="media")
    data = bytearray()
    for chunk in response.iter_content(64 * 1024):
        data.extend(chunk)
        if len(data) > max_bytes:
            raise ProviderError("the media is larger than allowed", permanent=True, code="media")
    return bytes(data)


def _signature_valid(validator: RequestValidator, url: str, params: Any, signature: str) -> bool:
    """RequestValidator.validate's answer, with one HMAC in the usual case instead of two.

    validate() signs the URL both with and without its port, since Twilio signs whichever form the console
    names; URL as given is always one of the two, so a match on it is validate()'s True, and only a mismatch
    needs validate() itself (the other form).
    """
    if hmac.compare_digest(validator.compute_signature(url, params).encode(), signature.encode()):
        return True
    return bool(validator.validate(url, params, signature))


def _validator(token: str) -> RequestValidator:
    """One RequestValidator per auth token in this process (every webhook needs one)."""
    validator = _validators.get(token)
    if validator is None:
        if len(_validators) >= CACHE_MAX_ENTRIES:
            _validators.clear()
        validator = _validators[token] = RequestValidator(token)
    return validator


def twilio_channel_for(*, account_sid: str, to: str = "", messaging_service_sid: str = "") -> Channel | None:
    """The Twilio channel of ACCOUNT_SID that owns number TO (or MESSAGING_SERVICE_SID); active ones first.

    Remembered per process for CHANNEL_CACHE_SECONDS (every webhook asks; channels rarely change): a change
    saved in this process is seen at once, one saved in another process within that time. Misses are not
    remembered, so a new channel is found at once everywhere.
    """
    if not account_sid:
        return None
    key = (account_sid, to, messaging_service_sid)
    now = time.monotonic()
    hit = _channels.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    channel = _channel_lookup(account_sid=account_sid, to=to, messaging_service_sid=messaging_service_sid)
    if channel is not None:
        if len(_channels) >= CACHE_MAX_ENTRIES:
            _channels.clear()
        _channels[key] = (now + CHANNEL_CACHE_SECONDS, channel)
    return channel


def twilio_channel_cache_clear(**kwargs: Any) -> None:
    """Forget the remembered channels (connected to Channel saves and deletes)."""
    _channels.clear()


def _channel_lookup(*, account_sid: str, to: str, messaging_service_sid: str) -> Channel | None:
    from careline.messaging.models import Channel

    matches = []
    for channel in Channel.objects.filter(type_code=TwilioType.code).order_by("-is_active", "pk"):
        config = channel.config or {}
        if config.get("account_sid") != account_sid:
            continue
        service = config.get("messaging_service_sid") or ""
        if (to and to in (channel.address, config.get("from_number"))) or (
            messaging_service_sid and service == messaging_service_sid
        ):
            matches.append(channel)
    return matches[0] if matches else None


# A lazy sender: the model is not loaded yet when channel types register.
post_save.connect(twilio_channel_cache_clear, sender="messaging.Channel", dispatch_uid="twilio-channel-cache")
post_delete.connect(
    twilio_channel_cache_clear, sender="messaging.Channel", dispatch_uid="twilio-channel-cache"
)
