from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from portal import context
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
            finally:
                rls.apply_scope(rls.SCOPE_ALL)
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
        rls.apply_scope(scope)
        request._portal_scope = scope  # type: ignore[attr-defined]
        return self.get_response(request)
