from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from portal import context as actor_context
from portal.api.parsers import PayloadTooLarge
from portal.errors import ConflictError

logger = logging.getLogger("portal.api")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object changed or no longer allows this; reload and retry."
    default_code = "conflict"


def internal_error_body() -> dict[str, str]:
    """What a client gets for a fault of ours: no trace, and the id to quote to support."""
    return {
        "detail": "Internal server error; quote the request id when you report it.",
        "request_id": actor_context.current().request_id,
    }


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler plus: oversized bodies answer 413, and every error is JSON, including
    unexpected ones (500 ``{"detail", "request_id"}``, logged with the request id and the
    traceback), whatever ``DEBUG`` says."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    if isinstance(exc, ConflictError):
        exc = Conflict(str(exc))
    if isinstance(exc, DjangoValidationError):
        if getattr(exc, "code", None) == "too_large" or (
            hasattr(exc, "error_dict")
            and any(e.code == "too_large" for es in exc.error_dict.values() for e in es)
        ):
            exc = PayloadTooLarge(" ".join(exc.messages))
        else:
            exc = exceptions.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            )
    if isinstance(exc, DjangoPermissionDenied) and not isinstance(exc, exceptions.APIException):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        request = context.get("request")
        logger.error(
            "Unhandled API error request_id=%s %s %s",
            actor_context.current().request_id,
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            exc_info=exc,
        )
        set_rollback()
        response = Response(internal_error_body(), status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return response
