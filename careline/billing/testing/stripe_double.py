"""A loopback test double of the parts of Stripe's API Careline uses, spoken to by the official `stripe` client.

    double = StripeDouble().start()                  # http://127.0.0.1:<random port>; settings.STRIPE_API_BASE
    double.sessions / double.refunds / double.requests
    events = double.pay(session_id)                  # the session paid: its two events, in Stripe's shape
    body, header = double.signed(event, secret)       # what Stripe would POST to the webhook
    double.fail_next(503)                             # the next API request fails
    double.stop()

It implements `POST /v1/checkout/sessions` and `POST /v1/refunds` (form-encoded, Bearer key, the
Idempotency-Key header honoured: a repeated key answers the first answer again without creating anything),
and refuses a refund beyond what is left of a payment, as Stripe does. Events are signed with the scheme
`stripe.Webhook.construct_event` verifies (`t=<unix time>,v1=<HMAC-SHA256 of "t.payload">`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

API_KEY = "sk_test_careline_double"
WEBHOOK_SECRET = "whsec_careline_double"  # noqa: S105 - a test double's made-up secret


def _nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) back into dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following = None if last else parts[index + 1]
            if isinstance(node, list):
                position = int(part)
                while len(node) <= position:
                    node.append(None)
                if last:
                    node[position] = value
                else:
                    if node[position] is None:
                        node[position] = [] if following is not None and following.isdigit() else {}
                    node = node[position]
            else:
                if last:
                    node[part] = value
                else:
                    if part not in node:
                        node[part] = [] if following is not None and following.isdigit() else {}
                    node = node[part]
    return root


@dataclass
class Recorded:
    method: str
    path: str
    idempotency_key: str
    params: dict[str, Any]


@dataclass
class StripeDouble:
    api_key: str = API_KEY
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    _answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    _failures: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the double first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> StripeDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                status, answer = double._answer(
                    self.path,
                    self.headers.get("Authorization", ""),
                    self.headers.get("Idempotency-Key", ""),
                    _nested(parse_qsl(body, keep_blank_values=True)),
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_" + secrets.token_hex(6))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def fail_next(self, status: int) -> None:
        """Answer the next API request with STATUS (an api_error) instead of doing it."""
        with self._lock:
            self._failures.append(status)

    # --- the API ---------------------------------------------------------------------------------------

    def _answer(
        self, path: str, authorization: str, key: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(Recorded("POST", path, key, params))
            if authorization != f"Bearer {self.api_key}":
                return 401, _error("invalid_request_error", "Invalid API Key provided.")
            if self._failures:
                return self._failures.pop(0), _error("api_error", "Something went wrong on Stripe's end.")
            cached = self._answers.get(f"{path}|{key}") if key else None
            if cached is not None:
                return cached
            if path == "/v1/checkout/sessions":
                answer = self._session_create(params)
            elif path == "/v1/refunds":
                answer = self._refund_create(params)
            else:
                answer = (404, _error("invalid_request_error", f"Unrecognized request URL (POST: {path})."))
            if key and answer[0] < 500:
                self._answers[f"{path}|{key}"] = answer
            return answer

    def _session_create(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        item = (params.get("line_items") or [{}])[0] or {}
        price = item.get("price_data") or {}
        try:
            amount = int(price.get("unit_amount", "")) * int(item.get("quantity", "1"))
        except ValueError:
            return 400, _error("invalid_request_error", "Invalid integer: unit_amount")
        session_id = "cs_test_" + secrets.token_hex(12)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params.get("mode"),
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": price.get("currency"),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "payment_intent": None,
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "url": f"{self.url}/pay/{session_id}",
            "_intent": "pi_" + secrets.token_hex(12),
            "_intent_metadata": (params.get("payment_intent_data") or {}).get("metadata") or {},
        }
        self.sessions[session_id] = session
        return 200, {k: v for k, v in session.items() if not k.startswith("_")}

    def _refund_create(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        intent = params.get("payment_intent", "")
        paid = next(
            (s for s in self.sessions.values() if s["_intent"] == intent and s["payment_status"] == "paid"),
            None,
        )
        if paid is None:
            return 400, _error("invalid_request_error", f"No such payment_intent: '{intent}'")
        left = paid["amount_total"] - sum(r["amount"] for r in self.refunds if r["payment_intent"] == intent)
        amount = int(params.get("amount") or left)
        if amount > left:
            return 400, _error(
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
            )
        refund = {
            "id": "re_" + secrets.token_hex(12),
            "object": "refund",
            "amount": amount,
            "payment_intent": intent,
            "status": "succeeded",
        }
        self.refunds.append(refund)
        return 200, refund

    # --- events ----------------------------------------------------------------------------------------

    def pay(self, session_id: str, *, amount: int | None = None) -> list[dict[str, Any]]:
        """SESSION_ID paid (AMOUNT, else its total): [checkout.session.completed, payment_intent.succeeded]."""
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid", payment_intent=session["_intent"])
            if amount is not None:
                session["amount_total"] = amount
            public = {k: v for k, v in session.items() if not k.startswith("_")}
        intent = {
            "id": session["_intent"],
            "object": "payment_intent",
            "amount": session["amount_total"],
            "amount_received": session["amount_total"],
            "currency": session["currency"],
            "status": "succeeded",
            "metadata": session["_intent_metadata"],
        }
        return [
            event("checkout.session.completed", public),
            event("payment_intent.succeeded", intent),
        ]

    def expire(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        session.update(status="expired")
        return event("checkout.session.expired", {k: v for k, v in session.items() if not k.startswith("_")})

    def decline(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        return event(
            "payment_intent.payment_failed",
            {
                "id": session["_intent"],
                "object": "payment_intent",
                "status": "requires_payment_method",
                "metadata": session["_intent_metadata"],
                "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
            },
        )

    def refund_in_dashboard(self, session_id: str, amount: int) -> dict[str, Any]:
        """Someone refunds AMOUNT of SESSION_ID's payment in Stripe's dashboard: the `charge.refunded` event."""
        intent = self.sessions[session_id]["_intent"]
        status, refund = self._refund_create({"payment_intent": intent, "amount": str(amount)})
        assert status == 200, refund
        return self.charge_refunded(session_id)

    def charge_refunded(self, session_id: str, *, list_refunds: bool = True) -> dict[str, Any]:
        """`charge.refunded` of SESSION_ID's charge as it stands (every refund so far, from the ledger or not);
        without LIST_REFUNDS as newer API versions send it (the total refunded only)."""
        session = self.sessions[session_id]
        intent = session["_intent"]
        refunds = [r for r in self.refunds if r["payment_intent"] == intent]
        charge: dict[str, Any] = {
            "id": "ch_" + intent[3:],
            "object": "charge",
            "amount": session["amount_total"],
            "amount_refunded": sum(r["amount"] for r in refunds),
            "payment_intent": intent,
            "refunded": sum(r["amount"] for r in refunds) >= session["amount_total"],
        }
        if list_refunds:
            charge["refunds"] = {"object": "list", "data": list(reversed(refunds)), "has_more": False}
        return event("charge.refunded", charge)

    def dispute(self, session_id: str, *, amount: int, status: str = "needs_response") -> dict[str, Any]:
        """A card dispute of SESSION_ID's payment: `charge.dispute.created`, or `.closed` with STATUS won/lost."""
        session = self.sessions[session_id]
        intent = session["_intent"]
        dispute = {
            "id": "dp_" + intent[3:],
            "object": "dispute",
            "amount": amount,
            "charge": "ch_" + intent[3:],
            "payment_intent": intent,
            "reason": "fraudulent",
            "status": status,
        }
        return event(
            "charge.dispute.closed" if status in ("won", "lost") else "charge.dispute.created", dispute
        )


def event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """A Stripe event of KIND about OBJ."""
    return {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "type": kind,
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": obj},
    }


def signed(
    payload: dict[str, Any] | bytes, secret: str = WEBHOOK_SECRET, *, timestamp: int | None = None
) -> tuple[bytes, str]:
    """(body, Stripe-Signature header) as Stripe would send PAYLOAD, signed with SECRET at TIMESTAMP (now)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={stamp},v1={digest}"


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}
