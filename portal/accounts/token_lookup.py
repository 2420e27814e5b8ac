"""The lookup every API token request makes: the token, its owner and the owner's roles, in
one prepared statement per database connection.

Written by hand (not ``ApiToken.objects.filter(...).select_related("user")`` as knox does)
because it is the request stack's only query and its cost decides how cheap the stack is
(#16, bench/README.md): PostgreSQL planned the token, user and roles query in about 0.3 ms on
every request, and the ORM compiled it in Python as often. Its SQL is written once per
process and prepared once per connection (``portal.postgresql.prepared``, which says how and
why), even inside a transaction: it is the one statement every token request runs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection

from portal.accounts.models import ApiToken, User
from portal.postgresql import prepared
from portal.tenancy.access import remember_roles, roles_json_sql

STATEMENT = "portal_token_lookup"


@dataclass(frozen=True)
class _Lookup:
    sql: str  # the SELECT, with the token key as its one parameter (%s)
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
    # Identifiers only, from the models' metadata, quoted; the key is the one parameter.
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(ApiToken._meta.db_table)} token_ "  # noqa: S608
        f"JOIN {quote(User._meta.db_table)} owner_ ON owner_.{quote(User._meta.pk.column)} = "
        f"token_.{quote(owner.column)} WHERE token_.{quote(key.column)} = %s"
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
        if not prepared.learn(error, name=STATEMENT) or connection.in_atomic_block:
            raise
        rows = _run(lookup, token_key)  # autocommit: nothing to roll back, ask again
    return [_token_from_row(lookup, row) for row in rows]


def _run(lookup: _Lookup, token_key: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        prepared.execute(cursor, name=STATEMENT, sql=lookup.sql, params=[token_key], types="(text)")
        return cursor.fetchall()


def _token_from_row(lookup: _Lookup, row: tuple[Any, ...]) -> ApiToken:
    n_token = len(lookup.token_fields)
    n_user = len(lookup.user_fields)
    token = ApiToken.from_db(connection.alias, lookup.token_fields, row[:n_token])
    user = User.from_db(connection.alias, lookup.user_fields, row[n_token : n_token + n_user])
    token.user = user
    remember_roles(user, row[-1])
    return token
