"""Security events in the audit history: refusals (``security.denied``) and lockouts
(``auth.locked_out``), each with the request id and client address of the actor context.

A denial is recorded at most once per person (or address, when anonymous) and path in
``PORTAL_DENIED_EVENT_SECONDS`` (a Redis ``add``), so a script hammering a forbidden URL
cannot flood the chain; lockouts once per username and address per cool-off.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from portal.audit.record import record_event
from portal.audit.verbs import Verb


def _first_in_window(*parts: str, seconds: int) -> bool:
    key = "security-event:" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    return bool(cache.add(key, 1, timeout=seconds))


def record_denied(*, request: HttpRequest, response: HttpResponse) -> None:
    """A 403 answered to ``request``: recorded unless already recorded in the window."""
    user = getattr(request, "user", None)
    who = (
        f"user:{user.pk}"
        if user is not None and user.is_authenticated
        else f"ip:{request.META.get('REMOTE_ADDR', '')}"
    )
    if not _first_in_window(
        "denied", who, request.path, seconds=settings.PORTAL_DENIED_EVENT_SECONDS
    ):
        return
    with transaction.atomic():
        record_event(
            verb=Verb.SECURITY_DENIED,
            actor=user if user is not None and user.is_authenticated else None,
            object_type="http.path",
            object_id=request.path[:64],
            object_label=request.path[:200],
            changes={"method": request.method or "", "status": response.status_code},
        )


def record_locked_out(*, username: str, reason: str) -> None:
    """An account (or username from an address) refused for a while after failures."""
    if not _first_in_window(
        "locked", username, reason, seconds=int(settings.AXES_COOLOFF_TIME.total_seconds())
    ):
        return
    with transaction.atomic():
        record_event(
            verb=Verb.AUTH_LOCKED_OUT,
            object_type="accounts.user",
            object_id=username[:64],
            object_label=username[:200],
            reason=reason,
        )


def on_axes_locked_out(sender: Any, request: Any = None, username: str = "", **kwargs: Any) -> None:
    """django-axes: this username from this address has failed too often."""
    record_locked_out(username=str(username or ""), reason="username and address")


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    """Refused because the account-wide delay runs (portal.accounts.throttle)."""
    if request is not None and getattr(request, "portal_account_wait", None):
        record_locked_out(username=str(credentials.get("username", ""))[:150], reason="account")
