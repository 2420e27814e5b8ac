"""The request stack's own cost (#16): the Row-Level Security scope rides on the request's
first statement instead of three statements of its own (portal.tenancy.rls), and survives a
rollback inside the request; token authentication reads the token and the roles, nothing
more (portal.api.authentication)."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.utils import timezone
from knox.settings import CONSTANTS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.models import ApiToken
from portal.accounts.services import token_issue
from portal.tenancy import rls
from portal.tenancy.access import access_for, forget
from tests.factories import make_user, make_user_of_every_kind_of_role


class Noop(APIView):
    """The portal's default authentication and permission classes, then nothing."""

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class Scope(APIView):
    def get(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('portal.tenant_scope', true)")
            return Response({"scope": cursor.fetchone()[0]})


class Roles(APIView):
    def get(self, request: Request) -> Response:
        access = access_for(request.user)
        return Response(
            {
                "programme": sorted(access.programme_roles),
                "tenants": {str(k): sorted(v) for k, v in access.tenant_roles.items()},
                "codes": {str(k): v for k, v in access.tenant_codes.items()},
            }
        )


def scope_after_a_rollback(request: HttpRequest) -> JsonResponse:
    """The scope goes with the first statement, inside a transaction that then rolls back."""
    with contextlib.suppress(RuntimeError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        raise RuntimeError("rolled back")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('portal.tenant_scope', true)")
        return JsonResponse({"scope": cursor.fetchone()[0]})


urlpatterns = [
    path("api/noop/", Noop.as_view()),
    path("api/scope/", Scope.as_view()),
    path("api/roles/", Roles.as_view()),
    path("after-rollback/", scope_after_a_rollback),
]


def _token(user: object) -> str:
    _, secret = token_issue(user=user, client="test", otp_verified=True)
    return f"Token {secret}"


@pytest.mark.django_db
@pytest.mark.urls("tests.portal.test_request_stack")
def test_a_token_request_makes_one_query(client, official_jp):  # type: ignore[no-untyped-def]
    """The token with its user and the user's roles, in one query: one fewer than the
    minimal stack (knox alone: the token, and its walk over the user's other tokens). Six
    before #16: the scope's three statements (deny-all, the user's, the reset) now ride on
    the next statement, knox's walk over the other tokens moved to token_issue, and the
    roles come with the token (portal.api.authentication)."""
    header = _token(official_jp)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/noop/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries]
    staff = _token(make_user("reviewer"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/noop/", HTTP_AUTHORIZATION=staff).status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries]


@pytest.mark.django_db
@pytest.mark.urls("tests.portal.test_request_stack")
def test_the_roles_read_with_the_token_are_the_roles_query_s(client, jp, fr):  # type: ignore[no-untyped-def]
    """The same rule as access_for's own query: ended roles and suspended countries left
    out, programme and country roles together; and none for a user with no role."""
    user = make_user_of_every_kind_of_role(jp, fr)
    with_token = client.get("/api/roles/", HTTP_AUTHORIZATION=_token(user)).json()
    assert with_token == {
        "programme": ["auditor", "reviewer"],
        "tenants": {str(jp.pk): ["country_admin", "official"]},
        "codes": {str(jp.pk): "JP"},
    }
    forget(user)
    own_query = access_for(user)
    assert with_token["programme"] == sorted(own_query.programme_roles)
    assert with_token["tenants"] == {str(k): sorted(v) for k, v in own_query.tenant_roles.items()}
    nobody = make_user()
    assert client.get("/api/roles/", HTTP_AUTHORIZATION=_token(nobody)).json() == {
        "programme": [],
        "tenants": {},
        "codes": {},
    }


@pytest.mark.django_db
@pytest.mark.urls("tests.portal.test_request_stack")
def test_a_deactivated_users_token_is_refused(client, official_jp):  # type: ignore[no-untyped-def]
    header = _token(official_jp)
    official_jp.is_active = False
    official_jp.save(update_fields=["is_active"])
    response = client.get("/api/noop/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


@pytest.mark.django_db
@pytest.mark.urls("tests.portal.test_request_stack")
def test_expired_tokens_are_refused_and_swept_when_a_new_one_is_taken(client, official_jp):  # type: ignore[no-untyped-def]
    expired, live = _token(official_jp), _token(official_jp)
    ApiToken.objects.filter(token_key=expired.split()[1][: CONSTANTS.TOKEN_KEY_LENGTH]).update(
        expiry=timezone.now() - dt.timedelta(seconds=1)
    )
    older = ApiToken.objects.create(user=official_jp, client="old")[0]
    ApiToken.objects.filter(pk=older.pk).update(expiry=timezone.now() - dt.timedelta(days=1))
    assert client.get("/api/noop/", HTTP_AUTHORIZATION=expired).status_code == 401
    assert client.get("/api/noop/", HTTP_AUTHORIZATION=live).status_code == 200
    assert ApiToken.objects.filter(user=official_jp).count() == 2  # the live one, the older
    _token(official_jp)
    assert not ApiToken.objects.filter(user=official_jp, expiry__lt=timezone.now()).exists()
    assert ApiToken.objects.filter(user=official_jp).count() == 2


@pytest.mark.django_db
@pytest.mark.urls("tests.portal.test_request_stack")
def test_a_session_request_makes_three_queries(client, official_jp):  # type: ignore[no-untyped-def]
    """The session, its user, the roles (five before #16: the scope set, and reset)."""
    client.force_login(official_jp)
    client.get("/api/noop/")  # the idle clock's first write
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/noop/").status_code == 200
    assert len(queries) == 3, [q["sql"] for q in queries]


@pytest.mark.django_db
@pytest.mark.urls("tests.portal.test_request_stack")
def test_the_scope_reaches_the_first_statement(client, official_jp, jp):  # type: ignore[no-untyped-def]
    rls.AFTER_REQUEST_SCOPE = rls.SCOPE_NONE
    try:
        header = _token(official_jp)
        assert client.get("/api/scope/", HTTP_AUTHORIZATION=header).json() == {"scope": str(jp.pk)}
        # After the response: none, sent before the connection's next statement.
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('portal.tenant_scope', true)")
            assert cursor.fetchone() == ("",)
    finally:
        rls.AFTER_REQUEST_SCOPE = rls.SCOPE_ALL


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.portal.test_request_stack")
def test_a_rollback_does_not_undo_the_scope(client, official_jp, jp):  # type: ignore[no-untyped-def]
    """In autocommit (as in production) the scope sent inside a transaction that rolls back
    is sent again with the next statement, never left at the previous request's."""
    with connection.cursor() as cursor:  # the connection acts programme-wide before
        cursor.execute("SELECT current_setting('portal.tenant_scope', true)")
        assert cursor.fetchone() == ("all",)
    client.force_login(official_jp)
    assert client.get("/after-rollback/").json() == {"scope": str(jp.pk)}
