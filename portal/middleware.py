from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from portal import context, parse
from portal.audit import security
from portal.tenancy import rls

_PROBES = frozenset({"/healthz", "/readyz"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Give every request an id (kept from X-Request-ID when well-formed) and an actor context."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        with context.actor_context(
            request_id=request_id, client_ip=request.META.get("REMOTE_ADDR")
        ):
            if request.path in _PROBES:  # must answer even when PostgreSQL does not
                return self.get_response(request)
            try:
                response = self.get_response(request)
            except BaseException:
                rls.apply_scope(rls.SCOPE_NONE)
                raise
            if response.streaming:
                # The body is produced after this returns: it keeps the user's scope until
                # the server closes the response, then the connection is reset to none.
                response._resource_closers.append(rls.reset_after_request)  # type: ignore[attr-defined]
            else:
                rls.reset_after_request()
        response["X-Request-ID"] = request_id
        return response


class ActorContextMiddleware:
    """After authentication: name the session user as the actor and scope the database to
    them (Row-Level Security, portal.tenancy.rls). API users: see portal.api.permissions."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            context.update(user=user)
            scope = rls.scope_for(user)
        else:
            scope = rls.SCOPE_NONE  # deny by default; an API token user is scoped after DRF auth
        rls.apply_scope(scope, user=user)
        request._portal_scope = scope  # type: ignore[attr-defined]
        response = self.get_response(request)
        if response.status_code == 403:
            security.record_denied(request=request, response=response)
        # Nothing a signed-in person (session or token) receives is kept by a cache.
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or "Authorization" in request.headers:
            add_never_cache_headers(response)
        return response


IDLE_KEY = "portal_last_seen"
_IDLE_WRITE_SECONDS = 60  # the session is re-saved at most once a minute, not per request


def mark_active(sender: object, request: HttpRequest, **kwargs: object) -> None:
    """``user_logged_in``: the idle clock starts at sign-in."""
    request.session[IDLE_KEY] = int(time.time())


class IdleTimeoutMiddleware:
    """Sign a session out after ``PORTAL_IDLE_MINUTES`` without a request (ASVS 3.3.2)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last = request.session.get(IDLE_KEY)
            if isinstance(last, int) and now - last > settings.PORTAL_IDLE_MINUTES * 60:
                logout(request)
            elif not isinstance(last, int) or now - last >= _IDLE_WRITE_SECONDS:
                request.session[IDLE_KEY] = now
        return self.get_response(request)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class ApiErrorMiddleware:
    """Outermost: an API error is JSON whatever produced it (DESIGN §5c).

    DRF views already answer JSON (portal.api.exceptions). This catches the rest under
    ``/api/``: Django's own 404 for an unknown path, a CSRF refusal, and the HTML debug page or
    500 page of an unexpected exception, with ``DEBUG`` on or off. The exception itself is
    logged by Django with the request id (portal.logging.RequestIdFilter).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            is_api(request)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
            and not getattr(response, "streaming", False)
        ):
            replacement = JsonResponse(
                {
                    "detail": response.reason_phrase
                    if response.status_code < 500
                    else "Internal server error; quote the request id when you report it.",
                    "request_id": getattr(request, "request_id", ""),
                },
                status=response.status_code,
            )
            for header in ("X-Request-ID", "Retry-After", "WWW-Authenticate", "Allow"):
                if header in response:
                    replacement[header] = response[header]
            response = replacement
        return response


# A body this far over the limit is not drained: the connection is closed instead.
_DRAIN_CAP = 64 * 1024 * 1024
_DRAIN_CHUNK = 64 * 1024


class BodyLimitMiddleware:
    """Answer 413 to a body over the limit, before anything reads it, in a way the client
    receives: the body is read and discarded first. (Closing a socket that still holds unread
    data makes the kernel send a TCP reset, and the client then sees "connection reset"
    instead of the answer.)

    Limits: ``MAX_REQUEST_BYTES`` (``DATA_UPLOAD_MAX_MEMORY_SIZE``) for ordinary bodies, the
    attachment limit plus form overhead for multipart uploads. A body without a
    Content-Length (chunked) is bounded where it is read (portal.api.parsers, Django).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @staticmethod
    def limit_for(request: HttpRequest) -> int:
        if request.content_type == "multipart/form-data":
            return settings.PORTAL_MAX_ATTACHMENT_BYTES + 1024 * 1024
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = parse.lenient_integer(request.META.get("CONTENT_LENGTH"))
        limit = self.limit_for(request)
        if length is None or length <= limit:
            return self.get_response(request)
        logging.getLogger("portal.request").warning(
            "Request body too large: %s bytes to %s (limit %s)", length, request.path, limit
        )
        if length <= _DRAIN_CAP:
            stream = request.META.get("wsgi.input")
            remaining = length
            while stream is not None and remaining > 0:
                chunk = stream.read(min(_DRAIN_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
        message = _("The request is too large (at most %(n)s bytes).") % {"n": limit}
        if is_api(request):
            return JsonResponse(
                {"detail": message, "request_id": getattr(request, "request_id", "")}, status=413
            )
        return render(request, "413.html", {"message": message}, status=413)
