"""A request's environ never carries the process's environment (Granian copies it in; secrets live there)."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from django.http import HttpResponse

from careline.core.lean import LeanWSGIHandler, process_environment_removed


def _granian_environ(**request: Any) -> dict[str, Any]:
    """An environ as Granian builds it: the process's environment, then the request's own entries."""
    return dict(os.environ) | {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SCRIPT_NAME": "",
        "SERVER_SOFTWARE": "Granian",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/healthz",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        **request,
    }


def test_entries_copied_from_the_process_environment_are_removed(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "s3cret-token")
    monkeypatch.setenv("DATABASE_URL", "postgres://careline:pw@db/careline")
    monkeypatch.setenv(
        "HTTP_PROXY", "http://proxy.internal:3128"
    )  # looks like a header, comes from the process
    environ = process_environment_removed(_granian_environ(HTTP_USER_AGENT="TwilioProxy/1.1"))
    assert "TWILIO_AUTH_TOKEN" not in environ and "DATABASE_URL" not in environ
    assert "HTTP_PROXY" not in environ
    assert not set(environ) & (set(os.environ) - {"SERVER_SOFTWARE"})
    # What the server and the client put there stays.
    assert environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"] == "/healthz"
    assert environ["HTTP_USER_AGENT"] == "TwilioProxy/1.1" and environ["REMOTE_ADDR"] == "127.0.0.1"


def test_a_request_header_is_kept_even_when_the_process_has_a_variable_of_that_name(monkeypatch):
    monkeypatch.setenv("HTTP_X_REQUEST_ID", "from-the-process")
    environ = process_environment_removed(_granian_environ(HTTP_X_REQUEST_ID="from-the-client"))
    assert environ["HTTP_X_REQUEST_ID"] == "from-the-client"


@pytest.mark.django_db
def test_request_meta_has_no_secret_of_the_process(monkeypatch):
    monkeypatch.setenv("CARELINE_SECRET_KEY", "not-for-requests")
    seen: dict[str, Any] = {}

    def get_response(self, request):
        seen.update(request.META)
        return HttpResponse("ok")

    monkeypatch.setattr(LeanWSGIHandler, "get_response", get_response)
    statuses: list[str] = []
    body = b"".join(LeanWSGIHandler()(_granian_environ(), lambda status, headers: statuses.append(status)))
    assert statuses == ["200 OK"] and body == b"ok"
    assert "CARELINE_SECRET_KEY" not in seen and "PATH" not in seen
    assert seen["PATH_INFO"] == "/healthz"
