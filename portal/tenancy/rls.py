"""Row-Level Security: the database's own tenant filter, under the application's.

Every tenant table carries a policy (migrations) that shows a row only when its tenant is in
the session setting ``portal.tenant_scope``: ``all`` (programme staff, Celery tasks,
management commands) or a comma-separated list of tenant ids (a country's people). So a
query that forgot ``restrict()`` still cannot read or write another country's rows: the
application roles are subject to the policies, only the table owner (migrations) is not.
The worker role's scope is always honoured; the web role's only with the signed-in user's
claim for exactly that scope (``claim_for``), and ``all`` only for a programme user
(docs/rls.md, "Scope widening").

The scope is set per web request (deny-all first, then the signed-in user's), after DRF
authentication for API requests, and reset to none ("") when the response is closed — for a
streamed body (an export), only after its last byte, so the stream runs under the requesting
user's scope. Connections opened outside a request (tasks, commands) start with ``all``.

No round trip of its own: ``apply_scope`` only records the scope wanted on the connection,
and ``_send_scope`` (an execute wrapper on every connection) sends it in front of the next
statement, in the same query string (``SELECT set_config(…), set_config(…); <statement>``),
so PostgreSQL applies it before that statement runs. A scope asked for twice before a
statement, or replaced (the deny-all of the middleware by the token user's), costs nothing.
Inside a transaction the scope goes with every statement until one runs in autocommit, since
a rollback would undo it (docs/rls.md, "Per request").
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

from portal.tenancy.access import access_for

SCOPE_ALL = "all"
SCOPE_NONE = ""


def scope_for(user: Any) -> str:
    access = access_for(user)
    if access.reads_all_tenants() or access.has_programme_role("platform_admin"):
        return SCOPE_ALL
    return ",".join(str(tenant_id) for tenant_id in sorted(access.tenant_ids))


def claim_for(*, user_id: int, backend_pid: int, scope: str) -> str:
    """The web role's proof that this connection acts for ``user_id`` under ``scope``.

    ``"<user id>:<hex HMAC-SHA256 of '<backend pid>:<user id>:<scope>'>"`` under
    ``PORTAL_RLS_CLAIM_KEY``; ``portal_scope_ids()`` / ``portal_scope_wide()`` (tenancy
    migration 0006) recompute it with a copy of the key the web role cannot read, and honour
    the scope only when it matches this backend and this very scope string (``all`` also
    needs an active user with a programme role). Cached: one HMAC per (pid, user, scope).
    """
    return _claim(settings.PORTAL_RLS_CLAIM_KEY, backend_pid, user_id, scope)


@functools.lru_cache(maxsize=1024)
def _claim(key: bytes, backend_pid: int, user_id: int, scope: str) -> str:
    message = f"{backend_pid}:{user_id}:{scope}".encode()
    return f"{user_id}:{hmac.new(key, message, hashlib.sha256).hexdigest()}"


@dataclass(frozen=True)
class Scope:
    """What a connection should be scoped to: the scope, and whose claim goes with it."""

    scope: str
    user_id: int | None = None


@dataclass
class _ConnectionScope:
    wanted: Scope  # what the connection must act under (re-sent after a reconnect)
    pending: Scope | None  # not yet sent, or sent inside a transaction a rollback may undo


OUTSIDE_REQUESTS = Scope(SCOPE_ALL)  # tasks, commands: the whole programme (worker role)


def _state(db: Any) -> _ConnectionScope:
    state = getattr(db, "_portal_scope", None)
    if state is None:
        state = _ConnectionScope(wanted=OUTSIDE_REQUESTS, pending=OUTSIDE_REQUESTS)
        db._portal_scope = state
    return state


def apply_scope(scope: str, *, user: Any = None) -> None:
    """Scope the current connection to ``scope`` from its next statement on.

    ``user``: the person the scope is for; the web role honours a scope (a list or ``all``)
    only with their claim for it, sent in the same statement. Without one (tasks, commands)
    only the worker role's scope is honoured. Nothing is sent now: the scope travels in front of the
    connection's next statement (``_send_scope``), so it costs no round trip of its own.
    """
    user_id = None
    if scope != SCOPE_NONE and user is not None and getattr(user, "pk", None) is not None:
        user_id = int(user.pk)
    state = _state(connection)
    state.wanted = state.pending = Scope(scope, user_id)


def sent_scope_statement(db: Any, wanted: Scope) -> str:
    """The ``set_config`` statement for ``wanted`` on ``db``'s open connection, as literal SQL
    (the values are digits, commas, ``all``, ``:`` and hex: nothing to escape, no ``%``)."""
    claim = ""
    scope = wanted.scope
    if not all(c.isdigit() or c == "," for c in scope) and scope != SCOPE_ALL:
        raise ValueError(f"not a tenant scope: {scope!r}")
    if wanted.user_id is not None:
        claim = claim_for(
            user_id=wanted.user_id, backend_pid=db.connection.info.backend_pid, scope=scope
        )
    return (
        f"SELECT set_config('portal.tenant_scope', '{scope}', false), "
        f"set_config('portal.claim', '{claim}', false)"
    )


_FAILED = psycopg.pq.TransactionStatus.INERROR
# Statements PostgreSQL refuses inside a transaction block.
_OUTSIDE_TRANSACTION_BLOCKS = re.compile(
    r"^\s*(CREATE|DROP|ALTER)\s+(DATABASE|SYSTEM|TABLESPACE)\b|^\s*VACUUM\b|\bCONCURRENTLY\b",
    re.IGNORECASE,
)


def _send_scope(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    """Execute wrapper: the pending scope, then the statement, in one round trip."""
    db = context["connection"]
    state = _state(db)
    wanted = state.pending
    if wanted is None or db.connection.info.transaction_status == _FAILED:
        # A failed transaction runs only its ROLLBACK (TO SAVEPOINT): the scope waits.
        return execute(sql, params, many, context)
    statement = sent_scope_statement(db, wanted)
    in_transaction = not db.get_autocommit()
    raw = context["cursor"].cursor
    if (
        many
        or isinstance(raw, psycopg.ServerCursor)
        or not isinstance(raw, psycopg.ClientCursor)
        or _OUTSIDE_TRANSACTION_BLOCKS.search(sql)
    ):
        # executemany and named (server-side) cursors take one statement, and two statements
        # in one query string form one transaction block, which CREATE DATABASE, VACUUM,
        # … CONCURRENTLY refuse: send the scope on its own first.
        db.connection.execute(statement)
        if not in_transaction:
            state.pending = None
        return execute(sql, params, many, context)
    result = execute(f"{statement}; {sql}", params, many, context)
    raw.nextset()  # the cursor now holds the statement's own result
    if not in_transaction:
        state.pending = None
    return result


def reset_after_request() -> None:
    """Deny-all on the connection once a response is done (a pooled connection keeps it):
    sent with the connection's next statement, before it runs."""
    apply_scope(AFTER_REQUEST_SCOPE)


# What a connection is scoped to once a response is done: none. (The test suite's own code
# goes on using the test client's connection programme-wide, like a command: tests/conftest.)
AFTER_REQUEST_SCOPE = SCOPE_NONE


def on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Every new connection sends its scope with its first statement: what was asked for
    on this connection object before (a request's), else ``all`` (tasks, commands)."""
    if connection.vendor != "postgresql":
        return
    state = _state(connection)
    state.pending = state.wanted
    if _send_scope not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _send_scope)
