"""The versioned JSON API at /api/v1/: one NinjaAPI, each app contributing a router from its api.py.

Every error answers in one shape: {"detail": "<sentence>", "errors": [{"field": "<name>", "message": "..."}]}.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.types import DictStrAny

from careline.accounts.api_auth import ApiTokenAuth
from careline.core.middleware import staff_session_is_current

NON_FIELD = "__all__"
# Where ninja says an error came from; the client only needs the field's own name.
_LOCATION_PREFIXES = {"body", "query", "path", "header", "cookie", "form", "file"}
# Routes name their body schema parameter `payload`, so 'payload.mrn' reads as 'mrn'.
BODY_PARAM_NAMES = {"payload"}


class UnsupportedMediaTypeError(Exception):
    """The request body is not JSON."""


class JsonOnlyParser(Parser):
    """Bodies must be JSON objects sent as application/json; anything else is refused, never guessed."""

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        """The decoded JSON body; UnsupportedMediaTypeError for another content type."""
        content_type = (request.content_type or "").lower()
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise UnsupportedMediaTypeError(content_type)
        return super().parse_body(request)


DOCS_PATH = "/docs"


def _docs_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let VIEW (the schema or its docs page) answer a signed-in staff session or an active API token only.

    Anyone else gets the API's 401; the docs page, which a person opens, sends them to sign in instead.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if staff_session_is_current(request) or ApiTokenAuth()(request) is not None:
            return view(request, *args, **kwargs)
        if request.path.endswith(DOCS_PATH):
            return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
        return on_authentication_error(request, AuthenticationError())

    return guarded


api = NinjaAPI(
    title="Careline API",
    version="1",
    description="Patient registry for clinic systems. Authenticate with `Authorization: Bearer <token>`.",
    urls_namespace="api",
    openapi_url="/openapi.json",
    # With "ninja" in INSTALLED_APPS the docs page loads Swagger UI from our own static files; the
    # validator badge would otherwise send the schema to swagger.io.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    docs_url=DOCS_PATH,
    # The schema and the docs describe every route and field: for staff and API clients, not the world.
    docs_decorator=_docs_access,
    auth=ApiTokenAuth(),
    parser=JsonOnlyParser(),
)


def error_response(
    request: HttpRequest, status: int, detail: str, errors: list[dict[str, str]] | None = None
) -> HttpResponse:
    """A JSON error in the API's one shape."""
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


def _field_parts(location: tuple[Any, ...] | list[Any], param_names: set[str]) -> list[str]:
    """['phones', '0', 'number'] from ninja's ('body', 'payload', 'phones', 0, 'number'); [] for the body."""
    parts = [str(part) for part in location]
    if parts and parts[0] in _LOCATION_PREFIXES:
        parts = parts[1:]
    if parts and parts[0] in param_names:
        parts = parts[1:]
    return parts


def _field_name(location: tuple[Any, ...] | list[Any], param_names: set[str]) -> str:
    """'phones.0.number' from ninja's ('body', 'payload', 'phones', 0, 'number')."""
    return ".".join(_field_parts(location, param_names)) or "body"


def _message(error: dict[str, Any]) -> str:
    """A readable sentence for one pydantic error."""
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "Unknown field; it is not accepted here."
    if kind == "missing":
        return "This field is required."
    text = str(error.get("msg", "Invalid value."))
    # Our validators raise ValueError("..."), which pydantic prefixes.
    for prefix in ("Value error, ", "Assertion failed, "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    """422, one entry per bad field."""
    names = BODY_PARAM_NAMES
    errors = []
    for error in exc.errors:
        location = error.get("loc", ())
        field = _field_name(location, names)
        message = _message(error)
        if not _field_parts(location, names):
            # The whole body is missing or is not an object (a field may be called "body" too: not this).
            field = "body"
            message = "Send a JSON object." if error.get("type") != "missing" else "A JSON body is required."
        errors.append({"field": field, "message": message})
    return error_response(request, 422, "Some fields are not valid.", errors)


@api.exception_handler(DjangoValidationError)
def on_django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """422 from a service's or model's ValidationError, per field where it names one."""
    errors: list[dict[str, str]] = []
    if hasattr(exc, "error_dict"):
        for field, field_errors in exc.message_dict.items():
            for message in field_errors:
                errors.append({"field": "body" if field == NON_FIELD else field, "message": message})
    else:
        errors = [{"field": "body", "message": message} for message in exc.messages]
    return error_response(request, 422, "Some fields are not valid.", errors)


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    """403: authenticated, but not allowed."""
    return error_response(request, 403, "You do not have permission to do this.")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    """404."""
    return error_response(request, 404, "Not found.")


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """401 with a Bearer challenge."""
    response = error_response(
        request, 401, "Authentication required: send `Authorization: Bearer <token>` with an active token."
    )
    response["WWW-Authenticate"] = 'Bearer realm="careline"'
    return response


@api.exception_handler(RequestDataTooBig)
def on_request_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    """413: the body is larger than CARELINE_MAX_REQUEST_BYTES."""
    return error_response(request, 413, "The request body is too large.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """ninja's HttpError: refused content types (415), unparseable bodies (400), throttling and the like."""
    cause = exc.__cause__
    if isinstance(cause, UnsupportedMediaTypeError):
        return error_response(request, 415, "Send the body as JSON with Content-Type: application/json.")
    if isinstance(cause, RequestDataTooBig):
        return on_request_too_big(request, cause)
    if isinstance(cause, ValueError | RecursionError):  # JSONDecodeError and UnicodeDecodeError included
        return error_response(request, 400, "The request body is not valid JSON.")
    return error_response(request, exc.status_code, str(exc) or "The request could not be handled.")


api.add_router("/patients", "careline.patients.api.router")
api.add_router("/messages", "careline.messaging.api.router")
api.add_router("/appointments", "careline.scheduling.api.router")
api.add_router("/slots", "careline.scheduling.api.slots_router")
api.add_router("/billing", "careline.billing.api.router")
