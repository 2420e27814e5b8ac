"""The lookup every API token request makes: the token, its owner and the owner's roles, in
one prepared statement per database connection.

Written by hand (not ``ApiToken.objects.filter(...).select_related("user")`` as knox does)
because it is the request stack's only query and its cost decides how cheap the stack is
(#16, bench/README.md): PostgreSQL planned the token, user and roles query in about 0.3 ms on
every request, and the ORM compiled it in Python as often. A server-side prepared statement
is planned once per connection (generic plan after PostgreSQL's five custom ones) and its SQL
is written once per process. No library does this for one query under Django's client-side
binding: psycopg's automatic preparation needs server-side binding, which cannot carry the
Row-Level Security scope in the same round trip (``portal.tenancy.rls``).

It still goes through Django's cursor, so the query is counted and logged like any other and
carries the pending scope. ``PREPARE`` is sent in front of the first ``EXECUTE`` on each
connection, in the same query string; a prepared statement lives as long as its session (a
rollback does not undo it) and dies with the connection, as does the flag that records it.
Should the record be wrong (the statement deallocated by hand, or a failure after
``PREPARE`` ran), the lookup learns from PostgreSQL's answer and asks again once. Not for a
transaction-pooling proxy (pgbouncer in transaction mode), where a session's statements
move between clients (docs/architecture.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection

from portal.accounts.models import ApiToken, User
from portal.tenancy.access import remember_roles, roles_json_sql

STATEMENT = "portal_token_lookup"
_PREPARED_FLAG = "_portal_token_lookup_prepared"


@dataclass(frozen=True)
class _Lookup:
    sql: str  # the SELECT, with $1 for the token key
    token_fields: list[str]
    user_fields: list[str]


@functools.cache
def _lookup() -> _Lookup:
    """The SELECT, written once per process from the models' metadata.

    Raises ImproperlyConfigured when a field of either model converts its database value
    (``from_db_value``: a JSONField, say), which ``Model.from_db`` here would not do."""

    def quote(name: Any) -> str:  # a table's or concrete field's name (never None)
        return str(connection.ops.quote_name(name))

    token_fields = list(ApiToken._meta.concrete_fields)
    user_fields = list(User._meta.concrete_fields)
    converting = [f.name for f in token_fields + user_fields if hasattr(f, "from_db_value")]
    if converting:
        raise ImproperlyConfigured(f"token lookup cannot convert the fields {converting}")
    owner = ApiToken._meta.get_field("user")
    key = ApiToken._meta.get_field("token_key")
    # Aliases of their own: the roles subquery names its tables p, m and t.
    columns = [f"token_.{quote(f.column)}" for f in token_fields]
    columns += [f"owner_.{quote(f.column)}" for f in user_fields]
    columns.append(roles_json_sql(User, user_id_column=f"token_.{quote(owner.column)}"))
    # Identifiers only, from the models' metadata, quoted; the key is the parameter $1.
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(ApiToken._meta.db_table)} token_ "  # noqa: S608
        f"JOIN {quote(User._meta.db_table)} owner_ ON owner_.{quote(User._meta.pk.column)} = "
        f"token_.{quote(owner.column)} WHERE token_.{quote(key.column)} = $1"
    )
    return _Lookup(
        sql=sql,
        token_fields=[f.attname for f in token_fields],
        user_fields=[f.attname for f in user_fields],
    )


def tokens_by_key(*, token_key: str) -> list[ApiToken]:
    """The tokens whose ``token_key`` (knox's first ``CONSTANTS.TOKEN_KEY_LENGTH`` characters
    of the secret) is ``token_key``, in no order, each with its ``user`` loaded and the
    user's roles remembered for the request (``portal.tenancy.access.remember_roles``, so
    ``access_for`` makes no query). One query. Raises DatabaseError as any query does."""
    lookup = _lookup()
    try:
        rows = _run(lookup, token_key)
    except DatabaseError as error:
        if not _learn(error) or connection.in_atomic_block:
            raise
        rows = _run(lookup, token_key)  # autocommit: nothing to roll back, ask again
    return [_token_from_row(lookup, row) for row in rows]


def _run(lookup: _Lookup, token_key: str) -> list[tuple[Any, ...]]:
    execute = f"EXECUTE {STATEMENT}(%s)"
    with connection.cursor() as cursor:
        # The connection the cursor is on: opening it may have replaced a dead one.
        raw = cursor.cursor.connection
        prepare = not getattr(raw, _PREPARED_FLAG, False)
        if prepare:
            cursor.execute(f"PREPARE {STATEMENT}(text) AS {lookup.sql}; {execute}", [token_key])
            setattr(raw, _PREPARED_FLAG, True)
            cursor.cursor.nextset()  # past PREPARE's empty result, to EXECUTE's rows
        else:
            cursor.execute(execute, [token_key])
        return cursor.fetchall()


def _learn(error: DatabaseError) -> bool:
    """Correct the connection's record of the prepared statement from ``error``; whether
    it was wrong (so asking again can succeed)."""
    cause = error.__cause__
    if isinstance(cause, psycopg.errors.InvalidSqlStatementName):  # not prepared after all
        setattr(connection.connection, _PREPARED_FLAG, False)
        return True
    if isinstance(cause, psycopg.errors.DuplicatePreparedStatement):  # prepared after all
        setattr(connection.connection, _PREPARED_FLAG, True)
        return True
    return False


def _token_from_row(lookup: _Lookup, row: tuple[Any, ...]) -> ApiToken:
    n_token = len(lookup.token_fields)
    n_user = len(lookup.user_fields)
    token = ApiToken.from_db(connection.alias, lookup.token_fields, row[:n_token])
    user = User.from_db(connection.alias, lookup.user_fields, row[n_token : n_token + n_user])
    token.user = user
    remember_roles(user, row[-1])
    return token
