"""A loopback test double of Twilio's Messages API, spoken to by the official `twilio` client.

    double = TwilioDouble().start()            # http://127.0.0.1:<random port>
    double.url, double.account_sid, double.auth_token
    double.fail_next(Fault.twilio_error(21211))            # the next request fails like Twilio would
    double.fail_to("+15555550100", Fault(status=500))      # every request to that number
    double.fail_media(Fault(status=503), Fault(status=404))  # the next media downloads fail, in order
    double.set_rates(error_rate=0.05, delay_rate=0.02, delay=Fault.timeout(12))
    double.add_hook(lambda form: Fault(status=429) if ... else None)
    double.set_rate_limit("+15551234567", 10)              # 429 / 20429 past 10 messages a second from it
    double.messages  /  double.sent_to("+1...")  /  double.requests  /  double.request_count
    double.stop()                              # also wakes every delayed answer

It implements `POST /2010-04-01/Accounts/{sid}/Messages.json` (201 with a Twilio-like JSON body),
`GET .../Messages.json` (To, From, DateSent, DateSent>, DateSent<, PageSize, Page),
`GET .../Messages/{sid}.json` and `GET .../Messages/{sid}/Media/{sid}` (the files of inbound MMS, added
with `double.add_media(content, content_type)`, which answers the URL Twilio would post in MediaUrl0),
checks HTTP Basic auth, and records every request thread-safely.
Other processes (benchmark workers, a fault-injection run) can steer it over HTTP:
`GET /_double/state`, `POST /_double/faults` (JSON, see `_control_faults`), `POST /_double/reset`.
Run it standalone with `python -m careline.messaging.testing.twilio_double --port 8765`.

Per-request work is kept small (one lock, no logging, keep-alive) so it answers thousands of
requests per second: the benchmark compares the pipeline with a plain loop posting to it.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import random
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

API_PREFIX = "/2010-04-01/Accounts/"
_MESSAGES = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>[A-Za-z0-9]+)/Messages(?:/(?P<sid>[A-Za-z0-9]+))?\.json$"
)
_MEDIA = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>[A-Za-z0-9]+)/Messages/[A-Za-z0-9]+/Media/(?P<media>[A-Za-z0-9]+)$"
)
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21211: "Invalid 'To' Phone Number",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
}


@dataclass(frozen=True)
class Fault:
    """How to answer one request instead of accepting it normally.

    status: the HTTP status to answer (201 means "accept normally", after the delay).
    code: a Twilio error code for the JSON body (None: a bare error body).
    delay: seconds to hold the answer (longer than the client's timeout makes it time out).
    accept: store the message before answering, so it is listed (a timeout after Twilio accepted).
    """

    status: int = 500
    code: int | None = None
    message: str = ""
    delay: float = 0.0
    accept: bool = False

    @classmethod
    def twilio_error(cls, code: int, *, status: int = 400) -> Fault:
        """The JSON error Twilio answers for CODE (21211, 21610, 30003, 30005, 30006 ...)."""
        return cls(
            status=429 if code == 20429 else status, code=code, message=ERROR_MESSAGES.get(code, "Error")
        )

    @classmethod
    def timeout(cls, seconds: float, *, accepted: bool = True) -> Fault:
        """Hold the answer SECONDS; ACCEPTED stores the message first (the ambiguous case)."""
        return cls(status=201 if accepted else 503, delay=seconds, accept=accepted)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the double received, with its answer's status."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    account_sid: str
    authorized: bool
    status: int
    sid: str | None
    at: float = field(default_factory=time.time)  # when it was answered
    arrived: float = 0.0  # when it was received (message posts)

    def get(self, key: str, default: str = "") -> str:
        """The first form value of KEY (query value for GETs)."""
        values = self.form.get(key) or self.query.get(key)
        return values[0] if values else default


def _now() -> datetime:
    return datetime.now(UTC)


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment, usegmt=False).replace("-0000", "+0000")


def _parse_filter_date(text: str) -> datetime | date | None:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _matches_date(sent: datetime, bound: datetime | date, op: str) -> bool:
    left: datetime | date = sent
    if not isinstance(bound, datetime):
        left = sent.date()
    if op == "=":
        return left == bound
    if op == ">":
        return left >= bound  # Twilio's DateSent> means "on or after"
    return left <= bound


class TwilioDouble:
    """A threaded HTTP server on 127.0.0.1 that behaves like Twilio's Messages API."""

    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
    ) -> None:
        self.account_sid = account_sid or "AC" + secrets.token_hex(16)
        self.auth_token = auth_token or secrets.token_hex(16)
        self._accounts: dict[str, str] = {self.account_sid: self.auth_token}
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._messages: list[dict[str, Any]] = []
        self._by_sid: dict[str, dict[str, Any]] = {}
        self._media: dict[str, tuple[bytes, str]] = {}
        self._next: deque[Fault] = deque()
        self._media_faults: deque[Fault] = deque()
        self._per_number: dict[str, Fault] = {}
        self._hooks: list[Callable[[dict[str, str]], Fault | None]] = []
        self._error_rate = 0.0
        self._error = Fault(status=500)
        self._delay_rate = 0.0
        self._delay = Fault.timeout(15)
        self._random = random.Random(seed)
        # Provider limits: at most N accepted messages in any 1 s per sender (From, or MessagingServiceSid).
        self._rate_limits: dict[str, int] = {}
        self._accepted_at: dict[str, deque[float]] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ---------------------------------------------------------------------------------------

    def start(self) -> TwilioDouble:
        """Listen on the loopback (a random port unless one was given) in a background thread."""
        server = _Server((self._host, self._port), _Handler)
        server.double = self  # type: ignore[attr-defined]
        self._server = server
        self._released.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and wake every answer being held by a delay fault."""
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> TwilioDouble:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the double is not running: call start()")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL to give the client instead of https://api.twilio.com."""
        return f"http://{self._host}:{self.port}"

    def add_account(self, account_sid: str, auth_token: str) -> None:
        """Accept requests for another account (Basic auth SID:TOKEN)."""
        with self._lock:
            self._accounts[account_sid] = auth_token

    def add_media(self, content: bytes, content_type: str, *, account_sid: str | None = None) -> str:
        """Serve CONTENT as an inbound MMS file; the https://api.twilio.com URL Twilio would post for it."""
        media_sid = "ME" + secrets.token_hex(16)
        with self._lock:
            self._media[media_sid] = (content, content_type)
        message_sid = "MM" + secrets.token_hex(16)
        return (
            f"https://api.twilio.com{API_PREFIX}{account_sid or self.account_sid}"
            f"/Messages/{message_sid}/Media/{media_sid}"
        )

    def release(self) -> None:
        """Wake every answer currently held by a delay fault (later delays hold again)."""
        self._released.set()
        self._released = threading.Event()

    # --- fault injection --------------------------------------------------------------------------------

    def fail_next(self, *faults: Fault) -> None:
        """Answer the next len(FAULTS) message posts with these faults, in order."""
        with self._lock:
            self._next.extend(faults)

    def fail_media(self, *faults: Fault) -> None:
        """Answer the next len(FAULTS) media downloads with these faults, in order."""
        with self._lock:
            self._media_faults.extend(faults)

    def fail_to(self, number: str, fault: Fault | None) -> None:
        """Answer every post to NUMBER with FAULT (None removes the rule)."""
        with self._lock:
            if fault is None:
                self._per_number.pop(number, None)
            else:
                self._per_number[number] = fault

    def add_hook(self, hook: Callable[[dict[str, str]], Fault | None]) -> None:
        """HOOK(form) is asked for each message post; a Fault it returns is used."""
        with self._lock:
            self._hooks.append(hook)

    def set_rates(
        self,
        *,
        error_rate: float = 0.0,
        error: Fault | None = None,
        delay_rate: float = 0.0,
        delay: Fault | None = None,
    ) -> None:
        """Fail a random ERROR_RATE of posts with ERROR (500) and hold DELAY_RATE of them with DELAY."""
        with self._lock:
            self._error_rate, self._delay_rate = error_rate, delay_rate
            self._error = error or Fault(status=500)
            self._delay = delay or Fault.timeout(15)

    def clear_faults(self) -> None:
        """No more injected faults."""
        with self._lock:
            self._next.clear()
            self._media_faults.clear()
            self._per_number.clear()
            self._hooks.clear()
            self._error_rate = self._delay_rate = 0.0
            self._rate_limits.clear()
            self._accepted_at.clear()

    def reset(self) -> None:
        """Forget faults, requests and messages."""
        self.clear_faults()
        with self._lock:
            self._requests.clear()
            self._messages.clear()
            self._by_sid.clear()

    def set_rate_limit(self, sender: str, per_second: int | None) -> None:
        """Answer 429 (error 20429) to a message from SENDER (a number or a Messaging Service SID) when
        PER_SECOND of its messages were already accepted in the last second, like Twilio past a sender's MPS."""
        with self._lock:
            if per_second:
                self._rate_limits[sender] = per_second
            else:
                self._rate_limits.pop(sender, None)
            self._accepted_at.pop(sender, None)

    def _over_rate(self, form: dict[str, str], arrived: float) -> bool:
        """Whether FORM's sender is at its limit (called under the lock; counts FORM when it is not)."""
        for sender in (form.get("From", ""), form.get("MessagingServiceSid", "")):
            limit = self._rate_limits.get(sender) if sender else None
            if limit is None:
                continue
            window = self._accepted_at.setdefault(sender, deque())
            while window and window[0] <= arrived - 1.0:
                window.popleft()
            if len(window) >= limit:
                return True
        for sender in (form.get("From", ""), form.get("MessagingServiceSid", "")):
            if sender and sender in self._rate_limits:
                self._accepted_at[sender].append(arrived)
        return False

    def _fault_for(self, form: dict[str, str], arrived: float = 0.0) -> Fault | None:
        with self._lock:
            if self._next:
                return self._next.popleft()
            if self._rate_limits and self._over_rate(form, arrived or time.time()):
                return Fault.twilio_error(20429)
            fault = self._per_number.get(form.get("To", ""))
            hooks = list(self._hooks)
            error_rate, delay_rate = self._error_rate, self._delay_rate
            draw = self._random.random() if (error_rate or delay_rate) else 1.0
        if fault is not None:
            return fault
        for hook in hooks:
            fault = hook(form)
            if fault is not None:
                return fault
        if draw < error_rate:
            return self._error
        if draw < error_rate + delay_rate:
            return self._delay
        return None

    # --- what it received -------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every accepted message (Twilio's JSON), oldest first."""
        with self._lock:
            return list(self._messages)

    def sent_to(self, number: str) -> list[dict[str, Any]]:
        """Accepted messages to NUMBER, oldest first."""
        return [m for m in self.messages if m["to"] == number]

    def iter_posts(self) -> Iterator[RecordedRequest]:
        """Recorded message posts (whatever their answer)."""
        return (r for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json"))

    # --- the API ----------------------------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _accept(self, account_sid: str, form: dict[str, str], media: list[str]) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        now = _now()
        stamp = _rfc2822(now)
        service = form.get("MessagingServiceSid") or None
        body = form.get("Body", "")
        payload: dict[str, Any] = {
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": stamp,
            "date_sent": stamp,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": service,
            "num_media": str(len(media)),
            "num_segments": str(max(1, -(-len(body) // 153)) if len(body) > 160 else 1),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"{API_PREFIX}{account_sid}/Messages/{sid}/Media.json"},
            "to": form.get("To", ""),
            "uri": f"{API_PREFIX}{account_sid}/Messages/{sid}.json",
            # Not part of Twilio's answer; kept for tests (stripped before answering).
            "_media_urls": media,
            "_status_callback": form.get("StatusCallback", ""),
            "_created": now,
        }
        with self._lock:
            self._messages.append(payload)
            self._by_sid[sid] = payload
        return payload

    def _list(self, account_sid: str, query: dict[str, list[str]], path: str) -> dict[str, Any]:
        def first(key: str) -> str:
            values = query.get(key)
            return values[0] if values else ""

        to, sender = first("To"), first("From")
        bounds = [
            (op, _parse_filter_date(first(f"DateSent{op if op != '=' else ''}"))) for op in ("=", ">", "<")
        ]
        with self._lock:
            rows = [m for m in self._messages if m["account_sid"] == account_sid]
        rows = [
            m
            for m in rows
            if (not to or m["to"] == to)
            and (not sender or m["from"] == sender)
            and all(bound is None or _matches_date(m["_created"], bound, op) for op, bound in bounds)
        ]
        rows.reverse()  # newest first, like Twilio
        size = max(1, min(1000, int(first("PageSize") or 50)))
        page = max(0, int(first("Page") or 0))
        chunk = rows[page * size : (page + 1) * size]
        next_uri = None
        if (page + 1) * size < len(rows):
            params = {k: v[0] for k, v in query.items()} | {"Page": str(page + 1), "PageSize": str(size)}
            next_uri = f"{path}?{urlencode(params)}"
        return {
            "messages": [_public(m) for m in chunk],
            "end": page * size + max(0, len(chunk) - 1),
            "first_page_uri": path,
            "next_page_uri": next_uri,
            "page": page,
            "page_size": size,
            "previous_page_uri": None,
            "start": page * size,
            "uri": path,
        }

    def _control_faults(self, spec: dict[str, Any]) -> None:
        """Set rates from JSON: error_rate, error_status, error_code, delay_rate, delay_seconds, delay_accept,
        rate_limits ({sender: messages per second})."""
        code = spec.get("error_code")
        error = Fault.twilio_error(int(code)) if code else Fault(status=int(spec.get("error_status", 500)))
        delay = Fault.timeout(
            float(spec.get("delay_seconds", 15)), accepted=bool(spec.get("delay_accept", True))
        )
        for sender, per_second in dict(spec.get("rate_limits") or {}).items():
            self.set_rate_limit(str(sender), int(per_second) if per_second else None)
        self.set_rates(
            error_rate=float(spec.get("error_rate", 0)),
            error=error,
            delay_rate=float(spec.get("delay_rate", 0)),
            delay=delay,
        )

    def _state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": len(self._requests),
                "posts": sum(1 for r in self._requests if r.method == "POST"),
                "messages": [_public(m) | {"status_callback": m["_status_callback"]} for m in self._messages],
            }


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if not k.startswith("_")}


def _error_body(status: int, code: int | None, message: str) -> dict[str, Any]:
    code = code or status
    return {
        "code": code,
        "message": message or ERROR_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class _Server(ThreadingHTTPServer):
    """The double's listener. Its accept queue holds as many connections as a provider's would: with the
    standard library's 5, the connections several workers open at once overflowed it, the kernel dropped
    their handshakes, and the sends that waited out the retransmits failed as timeouts (the provider's
    fault, not the sender's)."""

    request_queue_size = 1024
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its connections
    server_version = "TwilioDouble/1"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms delayed-ACK stall

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: logging every request would dominate the cost of answering it."""

    @property
    def double(self) -> TwilioDouble:
        return self.server.double  # type: ignore[attr-defined]

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self._headers_buffer.append(b"\r\n" + data)  # type: ignore[attr-defined]  # one write for headers and body
        self.flush_headers()

    def _authorized(self, account_sid: str) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        token = self.double._accounts.get(user)
        return token is not None and secrets.compare_digest(token, password) and user == account_sid

    def _read_body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return (self.rfile.read(length) if length else b"").decode("utf-8", "replace")

    def do_POST(self) -> None:
        arrived = time.time()
        parts = urlsplit(self.path)
        raw = self._read_body()
        if parts.path.startswith("/_double/"):
            self._control("POST", parts.path, raw)
            return
        form = parse_qs(raw, keep_blank_values=True)
        match = _MESSAGES.match(parts.path)
        if match is None or match["sid"]:
            self._finish("POST", parts.path, {}, form, "", False, 404, _error_body(404, 20404, ""))
            return
        account = match["account"]
        if not self._authorized(account):
            self._finish("POST", parts.path, {}, form, account, False, 401, _error_body(401, 20003, ""))
            return
        flat = {key: values[0] for key, values in form.items()}
        problem = self._invalid(flat)
        if problem:
            self._finish("POST", parts.path, {}, form, account, True, 400, _error_body(400, problem, ""))
            return
        double = self.double
        fault = double._fault_for(flat, arrived)
        accepted = None
        if fault is None or fault.accept or (fault.status == 201):
            accepted = double._accept(account, flat, form.get("MediaUrl", []))
        if fault is not None and fault.delay:
            double._released.wait(fault.delay)
        if fault is not None and fault.status >= 400:
            body = _error_body(fault.status, fault.code, fault.message)
            self._finish("POST", parts.path, {}, form, account, True, fault.status, body, accepted, arrived)
            return
        assert accepted is not None
        self._finish("POST", parts.path, {}, form, account, True, 201, _public(accepted), accepted, arrived)

    @staticmethod
    def _invalid(form: dict[str, str]) -> int | None:
        to = form.get("To", "")
        if not to:
            return 21604
        if not _E164.match(to):
            return 21211
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 21603
        if not (form.get("Body") or form.get("MediaUrl")):
            return 21602
        return None

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        if parts.path.startswith("/_double/"):
            self._control("GET", parts.path, "")
            return
        media = _MEDIA.match(parts.path)
        if media is not None:
            self._serve_media(parts.path, query, media["account"], media["media"])
            return
        match = _MESSAGES.match(parts.path)
        if match is None:
            self._finish("GET", parts.path, query, {}, "", False, 404, _error_body(404, 20404, ""))
            return
        account = match["account"]
        if not self._authorized(account):
            self._finish("GET", parts.path, query, {}, account, False, 401, _error_body(401, 20003, ""))
            return
        if match["sid"]:
            with self.double._lock:
                found = self.double._by_sid.get(match["sid"])
            if found is None or found["account_sid"] != account:
                self._finish("GET", parts.path, query, {}, account, True, 404, _error_body(404, 20404, ""))
                return
            self._finish("GET", parts.path, query, {}, account, True, 200, _public(found))
            return
        try:
            listing = self.double._list(account, query, parts.path)
        except ValueError:
            self._finish(
                "GET", parts.path, query, {}, account, True, 400, _error_body(400, 20001, "Bad filter")
            )
            return
        self._finish("GET", parts.path, query, {}, account, True, 200, listing)

    def _serve_media(self, path: str, query: dict[str, list[str]], account: str, media_sid: str) -> None:
        if not self._authorized(account):
            self._finish("GET", path, query, {}, account, False, 401, _error_body(401, 20003, ""))
            return
        with self.double._lock:
            found = self.double._media.get(media_sid)
            fault = self.double._media_faults.popleft() if self.double._media_faults else None
        if fault is not None:
            if fault.delay:
                self.double._released.wait(fault.delay)
            body = _error_body(fault.status, fault.code, fault.message)
            self._finish("GET", path, query, {}, account, True, fault.status, body)
            return
        if found is None:
            self._finish("GET", path, query, {}, account, True, 404, _error_body(404, 20404, ""))
            return
        content, content_type = found
        self.double._record(RecordedRequest("GET", path, query, {}, account, True, 200, None))
        self.send_response_only(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def _finish(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        form: dict[str, list[str]],
        account: str,
        authorized: bool,
        status: int,
        payload: Any,
        accepted: dict[str, Any] | None = None,
        arrived: float = 0.0,
    ) -> None:
        sid = accepted["sid"] if accepted else None
        self.double._record(
            RecordedRequest(method, path, query, form, account, authorized, status, sid, arrived=arrived)
        )
        try:
            self._send(status, payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting (a timeout fault)

    def _control(self, method: str, path: str, raw: str) -> None:
        double = self.double
        if method == "GET" and path == "/_double/state":
            self._send(200, double._state())
        elif method == "POST" and path == "/_double/faults":
            try:
                double._control_faults(json.loads(raw or "{}"))
            except (ValueError, TypeError, AttributeError):
                self._send(400, {"error": "expected a JSON object"})
                return
            self._send(200, {"ok": True})
        elif method == "POST" and path == "/_double/reset":
            double.reset()
            self._send(200, {"ok": True})
        else:
            self._send(404, {"error": "unknown control endpoint"})


def main() -> None:
    """Run the double in the foreground (for a benchmark in another process)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--account-sid")
    parser.add_argument("--auth-token")
    args = parser.parse_args()
    double = TwilioDouble(account_sid=args.account_sid, auth_token=args.auth_token, port=args.port).start()
    print(
        json.dumps({"url": double.url, "account_sid": double.account_sid, "auth_token": double.auth_token}),
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        double.stop()


if __name__ == "__main__":
    main()
