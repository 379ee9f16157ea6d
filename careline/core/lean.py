"""Views that run without the middleware stack: provider webhooks at hundreds of requests a second.

A webhook has no session, no signed-in user, no page and no CSRF token: the session, authentication, MFA,
CSP, locale, messages and sign-in throttling middleware would each run for nothing on every request. A view
marked `@without_middleware` is called directly by LeanWSGIHandler (careline/wsgi.py), after the same URL
resolution and the ALLOWED_HOSTS check; every other request takes Django's full path.

Their INSERTs skip the ORM's statement building too (0.3-0.5 ms of Python a query, the largest single cost
of a webhook): `insert_fields` and `insert_values` give a row's columns and the values Model.save would write
(each field's pre_save and database preparation), `insert_statement` a multi-row INSERT written once per
row count; the tests that use them compare the rows with the ORM's.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIHandler
from django.db import models
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, get_resolver

View = TypeVar("View", bound=Callable[..., Any])


def without_middleware(view: View) -> View:
    """Mark VIEW to be served by LeanWSGIHandler without the middleware (it must need none of it)."""
    view.without_middleware = True  # type: ignore[attr-defined]
    return view


# What a WSGI server puts in the environ itself; everything else in a request's environ that equals the
# process's environment was copied from it (Granian does: its environ is os.environ plus the request).
_SERVER_KEYS = frozenset(
    {
        "GATEWAY_INTERFACE",
        "SCRIPT_NAME",
        "PATH_INFO",
        "QUERY_STRING",
        "REQUEST_METHOD",
        "CONTENT_TYPE",
        "CONTENT_LENGTH",
        "SERVER_NAME",
        "SERVER_PORT",
        "SERVER_PROTOCOL",
        "SERVER_SOFTWARE",
        "REMOTE_ADDR",
        "REMOTE_PORT",
        "REMOTE_HOST",
        "HTTPS",
        "RAW_URI",
        "REQUEST_URI",
    }
)


def process_environment_removed(environ: dict[str, Any]) -> dict[str, Any]:
    """ENVIRON without the entries copied from the process's environment (ENVIRON itself, changed in place).

    The process's environment holds the deployment's secrets (DATABASE_URL with its password, provider
    tokens): in `request.META` an error report, a debugging aid or a careless log line would carry them. An
    entry stays when the server sets it, or when its value differs from the process's (a request header).
    """
    process = os.environ
    for key in [key for key in environ.keys() & process.keys() if key not in _SERVER_KEYS]:
        if environ[key] == process[key]:
            del environ[key]
    return environ


class LeanWSGIHandler(WSGIHandler):
    """Django's WSGI handler, calling views marked `without_middleware` directly, on an environ without the
    process's environment in it (`process_environment_removed`)."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return super().__call__(process_environment_removed(environ), start_response)

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        try:
            match = get_resolver().resolve(request.path_info)
        except Resolver404:
            match = None
        if match is None or not getattr(match.func, "without_middleware", False):
            return super().get_response(request)
        request.resolver_match = match
        try:
            request.get_host()  # DisallowedHost (400) for a Host outside ALLOWED_HOSTS, as CommonMiddleware does
            response: HttpResponseBase = match.func(request, *match.args, **match.kwargs)
        except Exception as exc:  # noqa: BLE001 - turned into a 4xx/5xx response as Django does
            response = response_for_exception(request, exc)
        if not response.streaming and not response.has_header("Content-Length"):
            # As CommonMiddleware does: without it gunicorn answers in chunks (more writes, more bytes).
            response.headers["Content-Length"] = str(len(response.content))  # type: ignore[attr-defined]
        response._resource_closers.append(request.close)  # type: ignore[attr-defined]
        return response


def application_warm_up() -> None:
    """Do the work of a process's first requests at start-up, then keep the loaded objects out of the GC.

    Without it the first request of each web process imports every URL module and view (hundreds of
    milliseconds while its other requests wait), and every full garbage collection walks the ~190,000
    objects Django and the apps created while loading (about 100 ms with the GIL held on a busy 2-core
    host). `gc.freeze()` moves them to the permanent generation: collections see only what requests create.
    """
    get_resolver().reverse_dict  # noqa: B018 - walks (so imports) every URL module and view
    gc.collect()
    gc.freeze()


@cache
def insert_fields(model: type[models.Model], leave_out: tuple[str, ...] = ()) -> tuple[Any, ...]:
    """MODEL's concrete fields an INSERT writes: all but the primary key and the attnames in LEAVE_OUT."""
    return tuple(
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.attname not in leave_out
    )


def insert_values(instance: models.Model, fields: Sequence[Any], connection: Any) -> list[Any]:
    """The values Model.save would INSERT for FIELDS of the unsaved INSTANCE (defaults, auto_now_add...)."""
    return [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]


def insert_statement(model: type[models.Model], fields: tuple[Any, ...], rows: int, connection: Any) -> str:
    """INSERT INTO MODEL's table (FIELDS) VALUES (...) for ROWS rows, in CONNECTION's quoting (written once)."""
    key = (model, fields, rows, connection.vendor)
    statement = _statements.get(key)
    if statement is None:
        quote = connection.ops.quote_name
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        columns = ", ".join(quote(field.column) for field in fields)
        statement = _statements[key] = (
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([row] * rows)}"  # noqa: S608
        )
    return statement


_statements: dict[tuple[Any, ...], str] = {}
