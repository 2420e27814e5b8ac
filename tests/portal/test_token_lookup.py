"""The API token lookup (portal.accounts.token_lookup): one prepared statement per
connection that reads the token, its owner and the owner's roles; it learns from PostgreSQL
when its record of the statement is wrong, and odd secrets are a 401, never a 500."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from knox.settings import CONSTANTS

from portal.accounts import token_lookup
from portal.accounts.services import token_issue
from portal.postgresql import prepared
from portal.tenancy.access import access_for
from tests.factories import make_user


def _prepared() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE name = %s",
            [token_lookup.STATEMENT],
        )
        return bool(cursor.fetchone()[0])


def _key(secret: str) -> str:
    return secret[: CONSTANTS.TOKEN_KEY_LENGTH]


@pytest.mark.django_db
def test_one_query_reads_the_token_its_owner_and_their_roles(official_jp, jp):  # type: ignore[no-untyped-def]
    token, secret = token_issue(user=official_jp, client="test", otp_verified=True)
    with connection.cursor() as cursor:  # a connection that has not prepared it yet
        cursor.execute("DEALLOCATE ALL")
    prepared.recorded(connection.connection).clear()
    sent = []
    for _ in range(2):  # PREPARE with the first EXECUTE, then EXECUTE alone
        with CaptureQueriesContext(connection) as queries:
            (found,) = token_lookup.tokens_by_key(token_key=_key(secret))
        assert len(queries) == 1, [q["sql"] for q in queries]
        sent.append(queries[0]["sql"])
        assert found.pk == token.pk and found.digest == token.digest
        assert found.user.pk == official_jp.pk and found.user.email == official_jp.email
        with CaptureQueriesContext(connection) as queries:
            assert access_for(found.user).tenant_roles == {jp.pk: {"official"}}
        assert not queries  # the roles came with the token
    assert _prepared()
    assert "PREPARE portal_token_lookup(text) AS SELECT" in sent[0]
    assert "PREPARE" not in sent[1] and "EXECUTE portal_token_lookup(" in sent[1]
    assert token_lookup.tokens_by_key(token_key="0" * CONSTANTS.TOKEN_KEY_LENGTH) == []


@pytest.mark.django_db(transaction=True)
def test_a_wrong_record_of_the_statement_is_corrected_from_postgresql(official_jp):  # type: ignore[no-untyped-def]
    """Deallocated behind its back, or prepared without its record: in autocommit (as in
    production) the lookup learns from the error and asks again."""
    _, secret = token_issue(user=official_jp, client="test", otp_verified=True)
    assert len(token_lookup.tokens_by_key(token_key=_key(secret))) == 1
    with connection.cursor() as cursor:
        cursor.execute(f"DEALLOCATE {token_lookup.STATEMENT}")
    assert len(token_lookup.tokens_by_key(token_key=_key(secret))) == 1
    assert _prepared()
    prepared.recorded(connection.connection).discard(token_lookup.STATEMENT)
    assert len(token_lookup.tokens_by_key(token_key=_key(secret))) == 1
    assert token_lookup.STATEMENT in prepared.recorded(connection.connection)
    # Inside a transaction the failure is not retried (it aborted the transaction).
    with connection.cursor() as cursor:
        cursor.execute(f"DEALLOCATE {token_lookup.STATEMENT}")
    with pytest.raises(DatabaseError), transaction.atomic():
        token_lookup.tokens_by_key(token_key=_key(secret))
    assert len(token_lookup.tokens_by_key(token_key=_key(secret))) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "secret",
    ["x", "a'b\"c%s%%;--", "é" * 64, "$1) OR true; --", "0" * 200],
)
def test_odd_secrets_are_refused_with_401(client, secret):  # type: ignore[no-untyped-def]
    make_user("reviewer")
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_the_right_key_with_the_wrong_rest_of_the_secret_is_refused(client, official_jp):  # type: ignore[no-untyped-def]
    """The key finds the token; the digest of the whole secret must still match."""
    _, secret = token_issue(user=official_jp, client="test", otp_verified=True)
    forged = _key(secret) + ("0" if secret[-1] != "0" else "1") * (len(secret) - len(_key(secret)))
    assert len(token_lookup.tokens_by_key(token_key=_key(forged))) == 1
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {forged}").status_code == 401
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {secret}").status_code == 200
