"""Server-side prepared statements for the hot reads, under Django's client-side binding.

Why by hand: PostgreSQL parses and plans every query it is sent, and for the hot reads that
costs as much as running them (the API token lookup: 0.29 ms planning against 0.07 ms
running; bench/README.md, #16), and the SQL of the hot reads that writes their JSON
(``portal.api.sql_json``) is long to parse. A prepared statement is parsed once per
connection and, unless asked otherwise (``statements``), planned once (PostgreSQL's generic
plan, after five custom ones when it is no worse). psycopg prepares statements by
itself only under server-side binding, which cannot carry the Row-Level Security scope in
the same round trip (``portal.tenancy.rls``) and which Django does not use by default; no
library does it for Django's client-side cursors.

Everything still goes through Django's cursor, so each query is counted and logged like any
other and carries the pending scope. ``PREPARE`` is sent in front of the first ``EXECUTE``
on each connection, in the same query string; a prepared statement lives as long as its
session (a rollback does not undo it) and dies with the connection, as does the record of
it kept on the connection. Should the record be wrong (a statement deallocated by hand, or a
failure after ``PREPARE`` ran), the caller learns from PostgreSQL's answer and asks again
once, outside a transaction. Not for a transaction-pooling proxy (pgbouncer in transaction
mode), where a session's statements move between clients (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache, partial
from typing import Any

import psycopg
from django.db import DatabaseError, connection

# On the psycopg connection: the names of the statements prepared on it.
_PREPARED = "_portal_prepared_statements"
# Per connection; beyond it, queries run unprepared (a connection lives CONN_MAX_AGE). The
# queue's statement holds about 240 kB of the backend's memory (RssAnon, 40 page sizes).
MAX_PER_CONNECTION = 50
_PLACEHOLDER = re.compile(r"%%|%s")
_CUSTOM_PLAN = "SELECT set_config('plan_cache_mode', 'force_custom_plan', true)"
# Queries whose parameters PostgreSQL could not type: run as they are from then on, in this
# process.
_UNPREPARABLE: set[str] = set()


def recorded(raw: Any) -> set[str]:
    """The names of the statements recorded as prepared on ``raw`` (a psycopg connection);
    the set itself, which this module keeps up to date."""
    names: set[str] | None = getattr(raw, _PREPARED, None)
    if names is None:
        names = set()
        setattr(raw, _PREPARED, names)
    return names


@lru_cache(maxsize=256)
def numbered(sql: str) -> tuple[str, int]:
    """Django's ``%s`` placeholders as PostgreSQL's ``$1, $2, …`` (``%%`` kept for the
    client-side formatting of the whole string), and how many there are. Kept per SQL text:
    the token lookup asks for the same one on every request."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql), count


def statement_name(sql: str) -> str:
    """A name for the statement of ``sql``: the same text, the same name."""
    return "portal_" + hashlib.blake2b(sql.encode(), digest_size=10).hexdigest()


def execute(
    cursor: Any,
    *,
    name: str,
    sql: str,
    params: Sequence[Any],
    run: Callable[[str, Sequence[Any]], Any] | None = None,
    types: str = "",
    custom_plan: bool = False,
) -> Any:
    """Run ``sql`` (Django's placeholders) with ``params`` as the prepared statement ``name``
    on ``cursor`` (Django's cursor), preparing it first where this connection has not.
    ``run(sql, params)`` executes on the cursor (default ``cursor.execute``); ``types``: the
    parameters' types for ``PREPARE`` (``"(text)"``), else PostgreSQL infers them;
    ``custom_plan``: planned for its values on this execution (``statements``). Leaves the
    cursor on the statement's rows; returns what ``run`` returns. Raises DatabaseError as any
    query does (``learn`` tells whether asking again can succeed), ValueError when ``params``
    do not match the placeholders."""
    run = run or cursor.execute
    raw = cursor.cursor.connection  # opening the cursor may have replaced a dead connection
    prepared = recorded(raw)
    numbered_sql, count = numbered(sql)
    if count != len(params):
        raise ValueError(f"{count} placeholders for {len(params)} parameters")
    call = f"EXECUTE {name}({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"
    skip = 0  # results in front of EXECUTE's rows
    if custom_plan:  # for this query string only (its implicit transaction)
        call = f"{_CUSTOM_PLAN}; {call}"
        skip += 1
    if name not in prepared:
        call = f"PREPARE {name}{types} AS {numbered_sql}; {call}"
        skip += 1
    result = run(call, params)
    prepared.add(name)
    for _ in range(skip):
        cursor.cursor.nextset()
    return result


def learn(error: DatabaseError, *, name: str) -> bool:
    """Correct this connection's record of the statement ``name`` from ``error``; whether it
    was wrong (so asking again can succeed)."""
    cause = error.__cause__
    raw = connection.connection
    if raw is None:
        return False
    prepared = recorded(raw)
    if isinstance(cause, psycopg.errors.InvalidSqlStatementName):  # not prepared after all
        prepared.discard(name)
        return True
    if isinstance(cause, psycopg.errors.DuplicatePreparedStatement):  # prepared after all
        prepared.add(name)
        return True
    return False


def _as_prepared(
    execute_next: Any, sql: str, params: Any, many: bool, context: dict, *, custom_plan: bool
) -> Any:
    """Execute wrapper (``statements``): a plain SELECT outside a transaction, run as a
    prepared statement."""
    db = context["connection"]
    cursor = context["cursor"]
    raw_cursor = cursor.cursor
    if (
        many
        or db.in_atomic_block
        or not isinstance(raw_cursor, psycopg.ClientCursor)
        or isinstance(raw_cursor, psycopg.ServerCursor)
        or sql.lstrip()[:6].upper() != "SELECT"
        or not isinstance(params, list | tuple)  # none (a literal % stays one), or named
        or sql in _UNPREPARABLE
    ):
        return execute_next(sql, params, many, context)
    name = statement_name(sql)
    known = recorded(raw_cursor.connection)
    if name not in known and len(known) >= MAX_PER_CONNECTION:
        return execute_next(sql, params, many, context)  # the ones prepared stay so
    params = tuple(params)

    def run(text: str, values: Sequence[Any]) -> Any:
        return execute_next(text, values, many, context)

    try:
        return execute(cursor, name=name, sql=sql, params=params, run=run, custom_plan=custom_plan)
    except DatabaseError as error:
        if isinstance(error.__cause__, psycopg.errors.IndeterminateDatatype):
            # PREPARE cannot type one of its parameters (``SELECT %s IS NULL``): never again
            # here. In autocommit the failed query string changed nothing; run it as it is.
            _UNPREPARABLE.add(sql)
            return execute_next(sql, params, many, context)
        if not learn(error, name=name):
            raise
        return execute(cursor, name=name, sql=sql, params=params, run=run, custom_plan=custom_plan)


@contextmanager
def statements(*, custom_plans: bool = False) -> Iterator[None]:
    """Within: every plain SELECT on the default connection outside a transaction runs as a
    prepared statement (one per distinct SQL text and connection, ``MAX_PER_CONNECTION`` at
    most): parsed, and its Row-Level Security policies expanded, once per connection.

    ``custom_plans``: planned for its values on every execution, for a query whose best plan
    depends on them (a filter by a column of uneven values: an application's state). Else
    PostgreSQL may keep one generic plan after five executions, chosen on estimates without
    the values: the queue's generic plan, as fast as a planned one for its common states,
    scanned the whole table for a rare one (89-119 ms against 1.2 ms; #16). A lookup by key
    does without (one plan suits every key)."""
    connection.ensure_connection()  # so that the RLS scope's wrapper is installed already
    wrapper = partial(_as_prepared, custom_plan=custom_plans)
    # Outermost, so that the scope (portal.tenancy.rls) goes in front of PREPARE too.
    connection.execute_wrappers.insert(0, wrapper)
    try:
        yield
    finally:
        connection.execute_wrappers.remove(wrapper)
