"""The provider's side of the chaos run: the Twilio double's faults, and the webhooks a provider posts back.

- `FaultPlan`: the double's hook while faults are on: 5% of message posts answered 500, 2% held past the
  client's timeout (half of them accepted first: the ambiguous case), 1% answered 429 (error 20429).
- `Webhooks`: inbound texts and delivery reports posted to the web processes, signed like Twilio signs
  them, retried until answered 2xx (a provider retries what failed). Each accepted message's "sent" and
  "delivered" reports are posted twice each, in a shuffled order, so a report often comes after a later one.

Nothing here imports Django.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
from twilio.request_validator import RequestValidator

from careline.messaging.testing.twilio_double import Fault, TwilioDouble

INBOUND_PATH = "/webhooks/twilio/messages"


class FaultPlan:
    """The double's faults while the run's fault phase lasts (switched off by `stop`)."""

    def __init__(self, seed: int, *, stall_seconds: float) -> None:
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.on = True
        self.stall_seconds = stall_seconds
        self.counts: Counter[str] = Counter()

    def __call__(self, form: dict[str, str]) -> Fault | None:
        with self.lock:
            if not self.on:
                return None
            draw = self.random.random()
            if draw < 0.05:
                self.counts["500"] += 1
                return Fault(status=500)
            if draw < 0.07:
                accepted = self.random.random() < 0.5
                self.counts["stall, accepted" if accepted else "stall, not accepted"] += 1
                return Fault.timeout(self.stall_seconds, accepted=accepted)
            if draw < 0.08:
                self.counts["429"] += 1
                return Fault.twilio_error(20429)
            return None

    def stop(self) -> None:
        with self.lock:
            self.on = False


@dataclass(order=True)
class _Post:
    due: float
    order: int
    url: str = field(compare=False)
    form: dict[str, str] = field(compare=False)
    kind: str = field(compare=False)
    tries: int = field(default=0, compare=False)


class Webhooks:
    """Posts webhooks to the web server at BASE_URL from THREADS threads, each retried until it gets a 2xx."""

    def __init__(self, double: TwilioDouble, base_url: str, *, seed: int, threads: int = 12) -> None:
        self.double = double
        self.base_url = base_url
        self.validator = RequestValidator(double.auth_token)
        self.random = random.Random(seed)
        self.lock = threading.Condition()
        self.heap: list[_Post] = []
        self.order = itertools.count()
        self.in_flight = 0
        self.counts: Counter[str] = Counter()  # posts answered 2xx, by kind
        self.retries: Counter[str] = Counter()  # posts that failed and were posted again, by kind
        self.answers: Counter[str] = Counter()  # every non-2xx answer or error, by what it was
        self.seen_messages = 0
        self.stopping = False
        self.threads = [threading.Thread(target=self._post_loop, daemon=True) for _ in range(threads)]
        self.watcher = threading.Thread(target=self._watch_double, daemon=True)

    def start(self) -> Webhooks:
        for thread in self.threads:
            thread.start()
        self.watcher.start()
        return self

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            self.lock.notify_all()
        for thread in [*self.threads, self.watcher]:
            thread.join(timeout=30)

    def pending(self) -> int:
        """Webhooks not yet answered 2xx (queued or being posted)."""
        with self.lock:
            return len(self.heap) + self.in_flight

    def _push(self, url: str, form: dict[str, str], kind: str, delay: float = 0.0, tries: int = 0) -> None:
        with self.lock:
            heapq.heappush(
                self.heap, _Post(time.monotonic() + delay, next(self.order), url, form, kind, tries)
            )
            self.lock.notify()

    def inbound(self, form: dict[str, str], *, delay: float = 0.0) -> None:
        """Post an inbound text (FORM as Twilio posts it) after DELAY seconds."""
        self._push(self.base_url + INBOUND_PATH, form, "inbound", delay)

    def _watch_double(self) -> None:
        """Every message the double accepts gets its delivery reports: sent and delivered, each twice."""
        while not self.stopping:
            messages = self.double.messages[self.seen_messages :]
            self.seen_messages += len(messages)
            for message in messages:
                self._reports(message)
            time.sleep(0.2)  # polling the double's list of accepted messages

    def _reports(self, message: dict[str, Any]) -> None:
        url = message.get("_status_callback") or ""
        if not url:
            return
        for status in ("sent", "sent", "delivered", "delivered"):
            form = {
                "MessageSid": message["sid"],
                "SmsSid": message["sid"],
                "AccountSid": message["account_sid"],
                "From": message["from"] or "",
                "To": message["to"],
                "MessageStatus": status,
                "SmsStatus": status,
                "ApiVersion": "2010-04-01",
            }
            # Within 0-3 s, in any order: a "sent" often lands after the "delivered".
            self._push(url, form, "status", self.random.uniform(0.0, 3.0))

    def _post_loop(self) -> None:
        session = requests.Session()
        while True:
            with self.lock:
                while not self.stopping and (not self.heap or self.heap[0].due > time.monotonic()):
                    wait = self.heap[0].due - time.monotonic() if self.heap else 1.0
                    self.lock.wait(max(0.01, min(wait, 1.0)))
                if self.stopping:
                    return
                post = heapq.heappop(self.heap)
                self.in_flight += 1
            ok = self._post(session, post)
            with self.lock:
                self.in_flight -= 1
                if ok:
                    self.counts[post.kind] += 1
            if not ok:
                self.retries[post.kind] += 1
                self._push(post.url, post.form, post.kind, min(5.0, 0.5 * 2**post.tries), post.tries + 1)

    def _post(self, session: requests.Session, post: _Post) -> bool:
        # The web processes' PUBLIC_BASE_URL is BASE_URL: the signature covers the URL as posted.
        signature = self.validator.compute_signature(post.url, post.form)
        try:
            response = session.post(
                post.url, data=post.form, headers={"X-Twilio-Signature": signature}, timeout=15
            )
        except requests.RequestException as error:
            self.answers[type(error).__name__] += 1
            session.close()
            return False
        if 200 <= response.status_code < 300:
            return True
        self.answers[f"HTTP {response.status_code}"] += 1
        return False
