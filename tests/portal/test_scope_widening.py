"""Scope widening (#12, docs/rls.md): only the worker role, or the web role for a proven
programme user, gets the programme-wide scope; the web role's list scope is honoured only with
the user's claim for exactly that list. Each test opens a real connection as the web
role (DATABASE_URL) or the worker role (DATABASE_WORKER_URL) to the test database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone

from partnerships.models import CountryApplication
from portal.tenancy import rls
from portal.tenancy.models import ProgrammeRole, Tenant
from portal.tenancy.roles import PROGRAMME_ROLES
from tests.factories import create_application, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASE_WEB["USER"] == settings.DATABASE_WORKER["USER"],
        reason="one role for web and workers: set DATABASE_WORKER_URL (.ci/run does)",
    ),
]

SCOPE_WIDENING = import_module("portal.tenancy.migrations.0005_scope_widening")
SIGNED_LISTS = import_module("portal.tenancy.migrations.0006_signed_tenant_lists")


def _connect(role: dict[str, Any]) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=role["HOST"] or None,
        port=role["PORT"] or None,
        user=role["USER"],
        password=role["PASSWORD"] or None,
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    )


def _visible(conn: psycopg.Connection[Any], *, scope: str, claim: str = "") -> set[str]:
    conn.execute(
        "SELECT set_config('portal.tenant_scope', %s, false), set_config('portal.claim', %s, false)",
        [scope, claim],
    )
    rows = conn.execute(
        "SELECT t.code FROM partnerships_countryapplication a JOIN tenancy_tenant t ON t.id = a.tenant_id"
    ).fetchall()
    return {code for (code,) in rows}


def _claim(conn: psycopg.Connection[Any], user: Any, scope: str = "all") -> str:
    return rls.claim_for(user_id=user.pk, backend_pid=conn.info.backend_pid, scope=scope)


def _tenant(user: Any) -> str:
    return str(user.memberships.get().tenant_id)


@pytest.fixture
def world(official_jp, jp, official_fr, fr):  # type: ignore[no-untyped-def]
    create_application(official_jp, jp)
    create_application(official_fr, fr)
    return {"reviewer": make_user("reviewer"), "jp": official_jp, "fr": official_fr}


def test_the_web_role_ignores_all_without_a_claim(world):  # type: ignore[no-untyped-def]
    with _connect(settings.DATABASE_WEB) as web:
        assert _visible(web, scope="all") == set()
        # An injected statement that widens the scope of a country user's request.
        assert _visible(web, scope="all", claim=_claim(web, world["jp"])) == set()
        jp = _tenant(world["jp"])
        assert _visible(web, scope="all", claim=_claim(web, world["jp"], jp)) == set()
        assert _visible(web, scope=jp, claim=_claim(web, world["jp"], jp)) == {"JP"}


def test_the_web_role_honours_a_list_only_with_its_claim(world):  # type: ignore[no-untyped-def]
    jp, fr = _tenant(world["jp"]), _tenant(world["fr"])
    both = ",".join(sorted((jp, fr), key=int))
    with _connect(settings.DATABASE_WEB) as web, _connect(settings.DATABASE_WEB) as other:
        own = _claim(web, world["jp"], jp)
        assert _visible(web, scope=jp, claim=own) == {"JP"}
        # An injection in the JP official's request: its own claim, another list.
        assert _visible(web, scope=fr, claim=own) == set()
        assert _visible(web, scope=both, claim=own) == set()
        assert _visible(web, scope=f"{jp},", claim=own) == set()
        # No claim; a claim for another backend (read from pg_stat_activity); a forged one.
        assert _visible(web, scope=jp) == set()
        assert _visible(web, scope=fr, claim=_claim(other, world["fr"], fr)) == set()
        user_id, mac = own.split(":")
        assert _visible(web, scope=jp, claim=f"{user_id}:{'0' * len(mac)}") == set()
        assert _visible(web, scope=jp, claim=f"{world['fr'].pk}:{mac}") == set()
        # The same official's claim for all is no claim for a list, nor the other way round.
        assert _visible(web, scope=jp, claim=_claim(web, world["jp"])) == set()
        assert _visible(web, scope="all", claim=own) == set()
        # A claim made for another list verifies only for that list.
        assert _visible(web, scope=both, claim=_claim(web, world["jp"], both)) == {"FR", "JP"}


def test_the_web_role_honours_all_for_a_programme_user(world):  # type: ignore[no-untyped-def]
    with _connect(settings.DATABASE_WEB) as web:
        assert _visible(web, scope="all", claim=_claim(web, world["reviewer"])) == {"FR", "JP"}


def test_a_claim_cannot_be_forged_replayed_or_outlive_the_role(world):  # type: ignore[no-untyped-def]
    reviewer = world["reviewer"]
    with _connect(settings.DATABASE_WEB) as web, _connect(settings.DATABASE_WEB) as other:
        # A staff member's claim read from another backend (pg_stat_activity shows the
        # statements of the same role's sessions) does not work on this one.
        assert _visible(web, scope="all", claim=_claim(other, reviewer)) == set()
        user_id, mac = _claim(web, reviewer).split(":")
        assert _visible(web, scope="all", claim=f"{user_id}:{'0' * len(mac)}") == set()
        assert _visible(web, scope="all", claim=f"{world['jp'].pk}:{mac}") == set()
        assert _visible(web, scope="all", claim=f"{user_id}x:{mac}") == set()
        ProgrammeRole.objects.filter(user=reviewer).update(ended_at=timezone.now())
        assert _visible(web, scope="all", claim=_claim(web, reviewer)) == set()
        ProgrammeRole.objects.filter(user=reviewer).update(ended_at=None)
        type(reviewer).objects.filter(pk=reviewer.pk).update(is_active=False)
        assert _visible(web, scope="all", claim=_claim(web, reviewer)) == set()


def test_the_worker_role_honours_all(world):  # type: ignore[no-untyped-def]
    with _connect(settings.DATABASE_WORKER) as worker:
        assert _visible(worker, scope="all") == {"FR", "JP"}
        assert _visible(worker, scope="") == set()


def test_the_worker_role_honours_a_list_without_a_claim(world):  # type: ignore[no-untyped-def]
    jp, fr = _tenant(world["jp"]), _tenant(world["fr"])
    with _connect(settings.DATABASE_WORKER) as worker:
        assert _visible(worker, scope=jp) == {"JP"}
        assert _visible(worker, scope=f"{jp},{fr}") == {"FR", "JP"}
        assert _visible(worker, scope="not,a,list") == set()


def test_the_web_role_cannot_read_the_key_or_change_the_worker_roles(world):  # type: ignore[no-untyped-def]
    with _connect(settings.DATABASE_WEB) as web:
        for statement in (
            "SELECT claim_inner FROM portal_private.rls_config",
            "UPDATE portal_private.rls_config SET worker_roles = '{portal_app}'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                web.execute(statement)


def _plan(conn: psycopg.Connection[Any], *, scope: str, claim: str) -> str:
    conn.execute(
        "SELECT set_config('portal.tenant_scope', %s, false), set_config('portal.claim', %s, false)",
        [scope, claim],
    )
    return "\n".join(
        row
        for (row,) in conn.execute(
            "EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM partnerships_site s "
            "JOIN partnerships_countryapplication a ON a.id = s.application_id"
        ).fetchall()
    )


def test_the_widening_check_runs_once_per_query_not_per_row(world):  # type: ignore[no-untyped-def]
    jp = _tenant(world["jp"])
    with _connect(settings.DATABASE_WEB) as web:
        plan = _plan(web, scope="all", claim=_claim(web, world["reviewer"]))
        listed = _plan(web, scope=jp, claim=_claim(web, world["jp"], jp))
    # Each policy: one InitPlan for portal_scope_wide(), and the tenant tables' one more for
    # portal_scope_ids(); neither is called per row.
    assert plan.count("InitPlan") == plan.count("portal_scope_wide()") + plan.count(
        "portal_scope_ids()"
    ), plan
    assert plan.count("portal_scope_wide()") >= 2 and plan.count("portal_scope_ids()") >= 2, plan
    assert "portal_tenant_listed" not in plan, plan  # a function call per row
    assert listed.count("InitPlan") == plan.count("InitPlan"), listed


def test_the_database_knows_the_programme_roles_python_knows():
    assert set(SCOPE_WIDENING.PROGRAMME_ROLES) == {str(role) for role in PROGRAMME_ROLES}
    assert set(SIGNED_LISTS.PROGRAMME_ROLES) == {str(role) for role in PROGRAMME_ROLES}


# --- Through the request stack, as gunicorn runs it: the web role --------------------------


def careless_view(request: HttpRequest) -> JsonResponse:
    """No restrict(), and an "injected" statement widening the scope first: to ``all``, or
    to the list of every tenant (``?widen=list``)."""
    widen = request.GET.get("widen")
    if widen:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('portal.tenant_scope', %s, false)",
                [
                    ",".join(
                        str(pk) for pk in Tenant.objects.order_by("pk").values_list("pk", flat=True)
                    )
                    if widen == "list"
                    else "all"
                ],
            )
    codes = CountryApplication.objects.values_list("tenant__code", flat=True)
    return JsonResponse({"codes": sorted(set(codes))})


urlpatterns = [path("careless/", careless_view)]


@contextlib.contextmanager
def _as_web_role() -> Iterator[None]:
    saved = (connection.settings_dict["USER"], connection.settings_dict["PASSWORD"])
    connection.close()
    connection.settings_dict["USER"] = settings.DATABASE_WEB["USER"]
    connection.settings_dict["PASSWORD"] = settings.DATABASE_WEB["PASSWORD"]
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["USER"], connection.settings_dict["PASSWORD"] = saved


@pytest.mark.urls("tests.portal.test_scope_widening")
def test_requests_on_the_web_role(client, world):  # type: ignore[no-untyped-def]
    with _as_web_role():
        client.force_login(world["jp"])
        assert client.get("/careless/").json() == {"codes": ["JP"]}
        assert client.get("/careless/?widen=1").json() == {"codes": []}
        assert client.get("/careless/?widen=list").json() == {"codes": []}
        assert client.get("/careless/").json() == {"codes": ["JP"]}
        client.force_login(world["reviewer"])
        assert client.get("/careless/").json() == {"codes": ["FR", "JP"]}
        client.logout()
        assert client.get("/careless/?widen=1").json() == {"codes": []}
