"""Request ids, access log, 503 JSON when the database is down, no-store API responses, JSON slash redirects.

`RequestLogMiddleware` goes first in MIDDLEWARE: it times the whole request, takes the caller's
`X-Request-ID` (or makes one), echoes it on the response and exposes it to every log record through
`RequestIDFilter`. The access line carries method, path (never the query string; secret paths redacted), status,
duration and user id: no bodies, headers, tokens or medical data.

`DatabaseUnavailableMiddleware` goes right after SecurityMiddleware. DRF's exception handler already
turns OperationalError/InterfaceError in API views into 503; this covers the same errors raised
elsewhere (session and auth middleware, the admin), which Django would otherwise answer with a 500.
Django turns such exceptions into a response inside each middleware layer, so they never propagate
up to us: a `got_request_exception` receiver marks the request instead, and we swap the response.

`NoStoreMiddleware` goes right after RequestLogMiddleware, outside everything that can answer: every
response under /api/ (tokens, personal and medical data, and errors, the 503 and redirects included)
gets `Cache-Control: no-store` and `Pragma: no-cache`, so no browser or proxy keeps a copy.

`CommonMiddleware` replaces Django's. Under /api/ a request whose path lacks the trailing slash, and
that would resolve with one, gets `308 Permanent Redirect` for every method (GET, HEAD, POST, PUT,
PATCH, DELETE, OPTIONS) with a JSON body `{"detail", "code": "trailing_slash_required"}` and
`Location` set to the slashed path with the query string kept. 308, unlike Django's 301, obliges a
client that follows it to repeat the same method and body; the JSON body tells one that does not
follow redirects what to fix. A path that does not resolve with the slash either stays a JSON 404.
Outside /api/ (the admin) Django's behaviour is unchanged.
"""

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable

from django.core.signals import got_request_exception, request_finished
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.middleware import common
from django.utils.functional import empty
from django.utils.http import escape_leading_slashes

access_logger = logging.getLogger("cybermed.access")

ACCESS_FORMAT = "%(method)s %(path)s %(status)s %(duration_ms)sms user=%(user_id)s"

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# A caller-supplied id is only echoed when it is short and plain, so it cannot forge log lines.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> str:
    """`text` with control characters escaped, so a path like `/a%0aFAKE` stays on one log line."""
    return CONTROL_CHARACTERS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


# Paths that carry a secret (a calendar feed token): (pattern, replacement). Apps register theirs in
# AppConfig.ready(), so that this module need not know them.
SECRET_PATHS: list[tuple[re.Pattern[str], str]] = []


def register_secret_path(pattern: str, replacement: str) -> None:
    """Log every path matching `pattern` as `replacement`, in our access log and in Django's own log lines."""
    SECRET_PATHS.append((re.compile(pattern), replacement))


def redact(text: str) -> str:
    """`text` with every registered secret path replaced: the one place secrets are taken out of logs."""
    for pattern, replacement in SECRET_PATHS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretPathsFilter(logging.Filter):
    """Redacts secret paths in Django's request log ("Not Found: /calendar/<token>.ics") and runserver's."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class QuietOrdinaryClientErrorsFilter(logging.Filter):
    """Drops Django's warning line for a 401, 403 or 404 ("Unauthorized: /api/..."): clients get these all
    day, the access line already records each one with its status, and writing a second line cost every
    such response a fifth of its server time (issue 19). Other 4xx and every 5xx are still logged."""

    QUIET = frozenset({401, 403, 404})

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) not in self.QUIET


SERVICE_UNAVAILABLE = {
    "detail": "The service is temporarily unavailable. Try again shortly.",
    "code": "service_unavailable",
}
DB_UNAVAILABLE_ATTR = "_cybermed_database_unavailable"


class RequestIDFilter(logging.Filter):
    """Puts the current request id on every record as `record.request_id` ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def _user_id(request: HttpRequest) -> str:
    # DRF copies the JWT-authenticated user onto the Django request; only read it if it was resolved,
    # so that logging never triggers a database query of its own.
    user = getattr(request, "user", None)
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is None or wrapped is empty:
        return "-"
    return str(wrapped.pk) if getattr(wrapped, "is_authenticated", False) else "-"


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if VALID_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        request.request_id = request_id
        # Left set until request_finished: Django logs 4xx/5xx ("Not Found: ...") after the middleware returns.
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        fields = {
            "method": request.method,
            "path": _printable(redact(request.path)),
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user_id": _user_id(request),
        }
        access_logger.info(ACCESS_FORMAT, fields, extra=fields)
        return response


@receiver(request_finished, dispatch_uid="cybermed.middleware.clear_request_id")
def clear_request_id(sender: object, **kwargs: object) -> None:
    request_id_var.set("-")


@receiver(got_request_exception, dispatch_uid="cybermed.middleware.mark_database_unavailable")
def mark_database_unavailable(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    # Sent while Django is handling an uncaught exception, so sys.exc_info() is that exception.
    if request is not None and isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        setattr(request, DB_UNAVAILABLE_ATTR, True)


def service_unavailable_response() -> JsonResponse:
    response = JsonResponse(SERVICE_UNAVAILABLE, status=503)
    response["Retry-After"] = "5"
    response["X-Frame-Options"] = "DENY"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, DB_UNAVAILABLE_ATTR, False):
            logging.getLogger("cybermed.api").warning("database unavailable outside the API views")
            return service_unavailable_response()
        return response


def is_api_path(request: HttpRequest) -> bool:
    return request.path_info == "/api" or request.path_info.startswith("/api/")


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_api_path(request):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response


class CommonMiddleware(common.CommonMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code == 404 and is_api_path(request) and self.should_redirect_with_slash(request):
            # Built here rather than by get_full_path_with_slash(), which raises for a POST when DEBUG is on.
            location = escape_leading_slashes(request.get_full_path(force_append_slash=True))
            body = {"detail": f"This URL ends with a slash: {location}", "code": "trailing_slash_required"}
            redirect = HttpResponsePermanentRedirect(
                location, content=json.dumps(body), content_type="application/json", status=308
            )
            return super().process_response(request, redirect)
        return super().process_response(request, response)
