"""Sending a batch of messages with many requests in flight: the twilio client's asynchronous HTTP client
on one event loop per process.

The loop runs in a thread of its own and lives as long as the process, so its connections to the provider
are reused from batch to batch; each worker thread hands it a batch and waits for the answers. At most
CARELINE_SEND_CONCURRENCY requests of a batch are in flight, each no earlier than its rate slot.

Errors mean what they mean on the one-at-a-time path: a connection that was never made is temporary and
safe to retry; a read timeout or a connection that broke after the request went out is ambiguous (the
pipeline asks the provider before sending again); Twilio's answers are mapped by `error_from_twilio`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import TYPE_CHECKING, Any, cast

import aiohttp
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from careline.messaging.channels.base import ProviderError, SendJob, SendResult, late_for_slot
from careline.messaging.channels.twilio.errors import TWILIO_API, error_from_twilio

if TYPE_CHECKING:
    from careline.messaging.models import Channel

ClientSettings = tuple[str, str, str, float]  # account SID, auth token, API base URL, timeout

logger = logging.getLogger(__name__)

CONNECTIONS_PER_CLIENT = 100


class _AsyncBaseUrlHttpClient(AsyncTwilioHttpClient):
    """The twilio asynchronous HTTP client pointed at BASE_URL, with connect and read timeouts like the
    requests-based one (so a connection never made is told apart from an answer that never came)."""

    def __init__(self, *, base_url: str, timeout: float) -> None:
        super().__init__(pool_connections=False, timeout=timeout, logger=logger)
        self.base_url = base_url.rstrip("/")
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONNECTIONS_PER_CLIENT),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout),
        )

    async def request(
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
        assert self.session is not None
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = aiohttp.encode_basic_auth(*auth)
        async with self.session.request(
            method.upper(),
            url,
            params=cast(Any, params),  # twilio's values are strings, numbers and lists of them
            data=data,
            headers=headers,
            allow_redirects=allow_redirects,
        ) as response:
            text = await response.text()
        return Response(response.status, text, response.headers)


_loops: dict[int, asyncio.AbstractEventLoop] = {}
_loops_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Client] = {}


def _loop() -> asyncio.AbstractEventLoop:
    """This process's sending loop (a forked worker starts its own: threads do not survive a fork)."""
    pid = os.getpid()
    loop = _loops.get(pid)
    if loop is None:
        with _loops_lock:
            loop = _loops.get(pid)
            if loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="twilio-send", daemon=True).start()
                _loops[pid] = loop
    return loop


def _client(key: tuple[Any, ...], account_sid: str, token: str, base_url: str, timeout: float) -> Client:
    """The cached asynchronous client for KEY; made on the loop (its session belongs to it)."""
    client = _clients.get(key)
    if client is None:
        http = _AsyncBaseUrlHttpClient(base_url=base_url, timeout=timeout)
        client = _clients[key] = Client(account_sid, token, account_sid=account_sid, http_client=http)
    return client


def twilio_send_prepare(channel: Channel, client_settings: ClientSettings) -> None:
    """Start the sending loop and make CHANNEL's client on it."""
    account_sid, token, base_url, timeout = client_settings

    async def make() -> None:
        client = _client((channel.pk, *client_settings), account_sid, token, base_url, timeout)
        client.api.v2010.accounts(account_sid).messages  # noqa: B018 - the client's modules load on first use

    asyncio.run_coroutine_threadsafe(make(), _loop()).result()
    reverse("webhook-twilio-status")  # the first reverse() loads every URL module: not after a slot is taken


def twilio_send_many(
    channel: Channel, client_settings: ClientSettings, requests: list[tuple[SendJob, dict[str, Any]]]
) -> list[SendResult | ProviderError]:
    """Each job's result or error, in order; the requests (job, create arguments) go out concurrently,
    each at its job's slot."""
    account_sid, token, base_url, timeout = client_settings
    key = (channel.pk, *client_settings)
    future = asyncio.run_coroutine_threadsafe(
        _send_all(key, account_sid, token, base_url, timeout, requests), _loop()
    )
    return future.result()


async def _send_all(
    key: tuple[Any, ...],
    account_sid: str,
    token: str,
    base_url: str,
    timeout: float,
    requests: list[tuple[SendJob, dict[str, Any]]],
) -> list[SendResult | ProviderError]:
    client = _client(key, account_sid, token, base_url, timeout)
    messages = client.api.v2010.accounts(account_sid).messages
    in_flight = asyncio.Semaphore(settings.CARELINE_SEND_CONCURRENCY)
    loop = asyncio.get_running_loop()

    async def send(job: SendJob, params: dict[str, Any]) -> SendResult | ProviderError:
        delay = job.at - loop.time()  # the loop's clock is time.monotonic(), like the slot's
        if delay > 0:
            await asyncio.sleep(delay)
        async with in_flight:
            if job.late(loop.time()):
                return late_for_slot()
            try:
                created = await messages.create_async(**params)
            except TwilioRestException as exc:
                error = error_from_twilio(exc)
                logger.info("twilio refused message %s: %s", job.message.pk, error.code)
                return error
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
                return ProviderError("could not reach Twilio", permanent=False, code="connection")
            except (aiohttp.SocketTimeoutError, TimeoutError):
                # The request went out; Twilio may have accepted it. The pipeline asks `find_sent`.
                return ProviderError(
                    "Twilio did not answer in time", permanent=False, code="timeout", ambiguous=True
                )
            except aiohttp.ClientError:
                return ProviderError(
                    "the connection to Twilio broke", permanent=False, code="connection", ambiguous=True
                )
            except TwilioException as exc:
                return ProviderError(
                    f"Twilio client error: {type(exc).__name__}", permanent=False, code="client"
                )
        return SendResult(provider_message_id=str(created.sid), state="sent")

    return list(await asyncio.gather(*(send(*request) for request in requests)))
