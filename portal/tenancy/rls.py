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

from typing import Any

from django.db import connection

from portal.tenancy.access import access_for

SCOPE_ALL = "all"
SCOPE_NONE = ""


def scope_for(user: Any) -> str:
    access = access_for(user)
    if access.reads_all_tenants() or access.has_programme_role("platform_admin"):
        return SCOPE_ALL
    return ",".join(str(tenant_id) for tenant_id in sorted(access.tenant_ids))


def apply_scope(scope: str) -> None:
    """Set the scope on the current connection (session level; a rollback also undoes it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('portal.tenant_scope', %s, false)", [scope])


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
