"""Row-Level Security: the database's own tenant filter, under the application's.

Every tenant table carries a policy (migrations) that shows a row only when its tenant is in
the session setting ``portal.tenant_scope``: ``all`` (programme staff, Celery tasks,
management commands) or a comma-separated list of tenant ids (a country's people). So a
query that forgot ``restrict()`` still cannot read or write another country's rows: the
application role is subject to the policies, only the table owner (migrations) is not.

The scope is set per web request (deny-all first, then the signed-in user's), after DRF
authentication for API requests, and reset to none ("") when the response is closed — for a
streamed body (an export), only after its last byte, so the stream runs under the requesting
user's scope. Connections opened outside a request (tasks, commands) start with ``all``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

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


def claim_for(user_id: int, backend_pid: int) -> str:
    """The web role's proof that this connection acts for programme user ``user_id``.

    ``"<user id>:<hex HMAC-SHA256 of '<backend pid>:<user id>'>"`` under
    ``PORTAL_RLS_CLAIM_KEY``; ``portal_scope_wide()`` (tenancy migration 0005) recomputes it
    with a copy of the key the web role cannot read, and honours ``all`` only when it matches,
    the backend is the one it was made for, and the user holds a programme role.
    """
    message = f"{backend_pid}:{user_id}".encode()
    mac = hmac.new(settings.PORTAL_RLS_CLAIM_KEY, message, hashlib.sha256).hexdigest()
    return f"{user_id}:{mac}"


def apply_scope(scope: str, *, user: Any = None) -> None:
    """Set the scope on the current connection (session level; a rollback also undoes it).

    ``user``: the person a programme-wide scope is for. Its claim is set in the same
    statement, so a web-role connection honours ``all`` only for that person; without one
    (tasks, commands) only the worker role's ``all`` is honoured.
    """
    claim = ""
    if scope == SCOPE_ALL and user is not None and getattr(user, "pk", None) is not None:
        connection.ensure_connection()
        claim = claim_for(int(user.pk), connection.connection.info.backend_pid)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('portal.tenant_scope', %s, false), "
            "set_config('portal.claim', %s, false)",
            [scope, claim],
        )


# What a connection is scoped to once a response is done: none. (The test suite's own code
# goes on using the test client's connection programme-wide, like a command: tests/conftest.)
AFTER_REQUEST_SCOPE = SCOPE_NONE


def reset_after_request() -> None:
    """Deny-all on the connection once a response is done (a pooled connection keeps it)."""
    apply_scope(AFTER_REQUEST_SCOPE)


def on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Outside a request (tasks, commands) the portal acts for the whole programme."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('portal.tenant_scope', %s, false)", [SCOPE_ALL])
