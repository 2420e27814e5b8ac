"""The database itself protects the history; verification finds what was changed anyway."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from portal.audit.models import AuditEvent
from portal.audit.record import record_event
from portal.audit.verbs import Verb
from portal.audit.verify import verify_chain
from tests.factories import make_user
from tests.portal.audit_helpers import make_events, owner_connection

REWRITES = [
    "UPDATE audit_auditevent SET reason = 'rewritten'",
    "DELETE FROM audit_auditevent",
    "TRUNCATE audit_auditevent",
    "TRUNCATE audit_auditevent CASCADE",
]


@pytest.mark.django_db
@pytest.mark.parametrize("sql", REWRITES)
def test_the_application_role_cannot_rewrite_history(sql):
    record_event(verb=Verb.TENANT_CREATED, object_type="tenancy.tenant", object_id="1")
    with (
        pytest.raises(DatabaseError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(sql)
    assert AuditEvent.objects.filter(reason="").count() == 1


@pytest.mark.django_db
def test_deleting_a_user_named_in_history_is_refused():
    user = make_user(username="leaver")
    record_event(verb=Verb.AUTH_LOGIN, obj=user, actor=user)
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        user.delete()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sql", REWRITES)
def test_even_the_owner_is_refused_by_the_triggers(sql):
    record_event(verb=Verb.TENANT_CREATED, object_type="tenancy.tenant", object_id="1")
    with owner_connection() as owner:
        assert owner.execute("SELECT current_user").fetchone()[0] == "portal_owner"
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            owner.execute(sql)
    assert AuditEvent.objects.filter(reason="").count() == 1
    assert verify_chain().ok


def _tamper(sql: str, params: list[object]) -> None:
    """What an attacker holding the owner's password could do: lift the triggers, rewrite."""
    with owner_connection() as owner, owner.transaction():
        owner.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        owner.execute(sql, params)
        owner.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


@pytest.mark.django_db(transaction=True)
def test_tampering_is_detected_and_names_the_event():
    make_events(30)
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    victim = ids[17]
    assert verify_chain().ok

    _tamper("UPDATE audit_auditevent SET reason = 'nothing to see' WHERE id = %s", [victim])

    result = verify_chain(chunk_size=7)  # several chunks: the walk streams
    assert (result.ok, result.first_bad_id, result.problem, result.checked) == (
        False,
        victim,
        "hash",
        18,
    )
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=f"broken at event {victim}"):
        call_command("verify_audit", stdout=out, stderr=err)
    assert json.loads(out.getvalue())["first_bad_id"] == victim


@pytest.mark.django_db(transaction=True)
def test_a_rehashed_rewrite_or_a_deletion_breaks_the_next_link():
    make_events(10)
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [ids[4]])
    result = verify_chain()
    assert (result.ok, result.first_bad_id, result.problem) == (False, ids[5], "link")


@pytest.mark.django_db
def test_verify_audit_command_exit_codes():
    from django.core.management import call_command

    make_events(5)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)  # returns normally: exit code 0
    assert json.loads(out.getvalue())["ok"] is True and json.loads(out.getvalue())["checked"] == 5


def _run_verify_audit(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, on the test database: the operator's exit code."""
    name = connection.settings_dict["NAME"]
    app, owner = settings.DATABASE_APP, settings.DATABASE_OWNER
    env = {
        **os.environ,
        # The host may be a socket directory (the embedded server): quote it into the URL.
        "DATABASE_URL": f"postgresql://{app['USER']}@{quote(str(app['HOST']), safe='')}:{app['PORT']}/{name}",
        "DATABASE_WORKER_URL": f"postgresql://{app['USER']}@{quote(str(app['HOST']), safe='')}:{app['PORT']}/{name}",
        "DATABASE_OWNER_URL": f"postgresql://{owner['USER']}@{quote(str(owner['HOST']), safe='')}:{owner['PORT']}/{name}",
        # The same audit key and checkpoint folder as this test process.
        "PORTAL_AUDIT_KEY": settings.PORTAL_AUDIT_KEY.decode(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PORTAL_AUDIT_CHECKPOINT_DIR": settings.PORTAL_AUDIT_CHECKPOINT_DIR,
    }
    if app.get("PASSWORD"):
        env["PGPASSWORD"] = app["PASSWORD"]
    return subprocess.run(
        [sys.executable, "manage.py", "verify_audit", *args], env=env, capture_output=True, text=True, timeout=120,
        cwd=settings.BASE_DIR,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_verify_audit_command_exits_0_then_1_after_tampering():
    make_events(12)
    victim = AuditEvent.objects.order_by("id").values_list("id", flat=True)[5]
    ok = _run_verify_audit()
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {**json.loads(ok.stdout), "ok": True, "checked": 12}

    _tamper("UPDATE audit_auditevent SET changes = '{}'::jsonb WHERE id = %s", [victim])
    broken = _run_verify_audit()
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["first_bad_id"] == victim
    assert f"broken at event {victim}" in broken.stderr


def _verify_peak() -> tuple[int, float, int]:
    import tracemalloc

    tracemalloc.start()
    started = time.perf_counter()
    result = verify_chain(chunk_size=1000)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.ok
    return result.checked, elapsed, peak


@pytest.mark.django_db
def test_verify_memory_does_not_grow_with_the_chain():
    make_events(2_000)
    short = _verify_peak()
    make_events(18_000)
    long = _verify_peak()
    print(f"verify: {short[0]} events peak {short[2] / 1e6:.2f} MB; {long[0]} events in {long[1]:.2f}s "
          f"(traced) peak {long[2] / 1e6:.2f} MB")  # fmt: skip
    assert long[0] == 20_000
    assert long[2] < short[2] * 1.5  # ten times the events, about the same memory
