"""Who is acting, and on behalf of which request or task (STYLE 7).

Set by middleware for web requests and by ``actor_context`` for Celery tasks and management
commands, read by the audit recorder so every event is attributed.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ActorContext:
    user: Any = None  # a User, or None for the system
    system_label: str = ""  # e.g. "task:compliance.screen_application", "command:grant_role"
    request_id: str = ""
    client_ip: str | None = None


_current: ContextVar[ActorContext] = ContextVar("portal_actor", default=ActorContext())  # noqa: B039


def current() -> ActorContext:
    return _current.get()


@contextlib.contextmanager
def actor_context(
    *, user: Any = None, system_label: str = "", request_id: str = "", client_ip: str | None = None
) -> Iterator[ActorContext]:
    """Attribute the audit events written inside the block to ``user`` or a system label."""
    ctx = ActorContext(
        user=user,
        system_label=system_label,
        request_id=request_id or uuid.uuid4().hex,
        client_ip=client_ip,
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def update(**changes: Any) -> None:
    ctx = _current.get()
    _current.set(ActorContext(**{**ctx.__dict__, **changes}))
