"""The one DRF exception handler: every error is JSON, conflicts are 409, failed sign-ins 401, and nothing leaks."""

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from cybermed.exceptions import (
    AuthenticationError,
    DomainConflict,
    UpstreamUnavailable,
    conflict_for_integrity_error,
)
from cybermed.middleware import SERVICE_UNAVAILABLE

logger = logging.getLogger("cybermed.api")


def conflict_response(conflict: DomainConflict) -> Response:
    return Response({"detail": conflict.detail, "code": conflict.code}, status=status.HTTP_409_CONFLICT)


def authentication_error_response(error: AuthenticationError, context: dict) -> Response:
    body = {"detail": error.detail, "code": error.code}
    view, request = context.get("view"), context.get("request")
    header = view.get_authenticate_header(request) if view is not None and request is not None else None
    if not header:  # as DRF does: a 401 must name a scheme to authenticate with
        return Response(body, status=status.HTTP_403_FORBIDDEN)
    return Response(body, status=status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": header})


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, AuthenticationError):
        set_rollback()
        return authentication_error_response(exc, context)
    if isinstance(exc, DomainConflict):
        set_rollback()
        return conflict_response(exc)
    if isinstance(exc, UpstreamUnavailable):
        set_rollback()
        return Response(
            {"detail": exc.detail, "code": exc.code},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, IntegrityError):
        set_rollback()
        return conflict_response(conflict_for_integrity_error(exc))
    if isinstance(exc, OperationalError | InterfaceError):
        set_rollback()
        logger.warning("database unavailable: %s", type(exc).__name__)
        return Response(SERVICE_UNAVAILABLE, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "Request body too large.", "code": "payload_too_large"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        return Response({"detail": "Malformed request.", "code": "bad_request"}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        return Response(as_serializer_error(exc), status=status.HTTP_400_BAD_REQUEST)

    response = drf_exception_handler(exc, context)
    if response is not None:
        return response

    # Anything else is a bug: log it for us, and give the client JSON without internals.
    set_rollback()
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
    else:
        logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
    return Response(
        {"detail": "Internal server error.", "code": "server_error"}, status=status.HTTP_500_INTERNAL_SERVER_ERROR
    )
