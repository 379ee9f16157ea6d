"""Helpers for the /api/v1 tests: bearer tokens for personas and a client that sends them."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from careline.accounts.models import ApiToken, User, hash_token

API = "/api/v1"


def make_token(user: User, name: str = "test") -> str:
    """An active API token for USER; returns the secret."""
    secret = ApiToken.new_secret()
    ApiToken.objects.create(user=user, name=name, prefix=secret[:8], token_hash=hash_token(secret))
    return secret


class ApiClient:
    """A test client that sends `Authorization: Bearer <token>` (or nothing for an outsider)."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, data: dict[str, Any] | None = None) -> Any:
        return self.client.get(API + path, data or {}, headers=self.headers)

    def send(self, method: str, path: str, body: Any, content_type: str = "application/json") -> Any:
        """BODY as given (str/bytes, sent byte for byte) or as JSON (anything else)."""
        raw = body if isinstance(body, str | bytes) else json.dumps(body)
        data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
        return self.client.generic(method, API + path, data, content_type=content_type, headers=self.headers)

    def post(self, path: str, body: Any, content_type: str = "application/json") -> Any:
        return self.send("POST", path, body, content_type)

    def patch(self, path: str, body: Any, content_type: str = "application/json") -> Any:
        return self.send("PATCH", path, body, content_type)


def api_for(user: User | None) -> ApiClient:
    """An API client acting as USER's new token, or an outsider without one."""
    return ApiClient(make_token(user) if user is not None else None)
