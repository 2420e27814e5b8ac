"""Writing audit events: attribution, the chain's single order under concurrency, encoding."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.db import connection, transaction
from django.db.models import Count

from portal import context
from portal.audit.chain import GENESIS_HASH
from portal.audit.models import AuditEvent
from portal.audit.record import normalize_ip, record_event, record_events
from portal.audit.verbs import Verb
from portal.audit.verify import verify_chain
from portal.tenancy.services import role_grant, role_revoke
from tests.factories import PASSWORD, make_user


@pytest.mark.django_db
def test_role_grant_records_actor_tenant_and_changes(jp):
    admin = make_user("platform_admin", username="admin-1")
    target = make_user(username="newcomer")
    with context.actor_context(request_id="req-12345678", client_ip="10.1.2.3"):
        assert role_grant(user=target, role="official", tenant_code="jp", actor=admin)
    event = AuditEvent.objects.get(verb=Verb.ROLE_GRANTED)
    assert (event.actor_id, event.actor_username) == (admin.pk, "admin-1")
    assert (event.tenant_id, event.tenant_code) == (jp.pk, "JP")
    assert (event.object_type, event.object_id) == ("accounts.user", str(target.pk))
    assert event.changes == {"role": "official", "tenant": "JP"}
    assert (event.request_id, event.client_ip) == ("req-12345678", "10.1.2.3")
    assert event.prev_hash == GENESIS_HASH

    assert role_revoke(user=target, role="official", tenant_code="JP", actor=admin)
    revoked = AuditEvent.objects.get(verb=Verb.ROLE_REVOKED)
    assert revoked.prev_hash == event.hash
    assert verify_chain().ok


@pytest.mark.django_db
def test_command_and_task_work_is_attributed_to_the_system(jp):
    target = make_user(username="someone")
    with context.actor_context(system_label="command:grant_role"):
        role_grant(user=target, role="reviewer")
    event = AuditEvent.objects.get(verb=Verb.ROLE_GRANTED)
    assert (event.actor_id, event.actor_username, event.actor_label) == (
        None,
        "system",
        "command:grant_role",
    )
    assert event.tenant_id is None and event.tenant_code == ""


@pytest.mark.django_db
def test_login_success_and_failure_through_the_login_page(client):
    user = make_user("reviewer", username="rev-login")
    client.post(
        "/accounts/login/",
        {"username": "rev-login", "password": "wrong password!"},
        REMOTE_ADDR="192.0.2.7",
    )
    failed = AuditEvent.objects.get(verb=Verb.AUTH_LOGIN_FAILED)
    assert failed.actor_id is None and failed.actor_username == "system"
    assert (failed.object_id, failed.object_label) == (str(user.pk), "rev-login")
    assert failed.client_ip == "192.0.2.7" and failed.request_id

    response = client.post(
        "/accounts/login/", {"username": "rev-login", "password": PASSWORD}, REMOTE_ADDR="192.0.2.7"
    )
    assert response.status_code == 302
    login = AuditEvent.objects.get(verb=Verb.AUTH_LOGIN)
    assert (login.actor_id, login.actor_username) == (user.pk, "rev-login")
    assert login.client_ip == "192.0.2.7"
    assert response["X-Request-ID"] == login.request_id
    assert login.prev_hash == failed.hash
    assert verify_chain().ok


@pytest.mark.django_db
def test_unknown_user_login_failure_is_recorded_without_an_object_id(client):
    client.post("/accounts/login/", {"username": "nobody-here", "password": "x" * 12})
    failed = AuditEvent.objects.get(verb=Verb.AUTH_LOGIN_FAILED)
    assert failed.object_id == "" and failed.object_label == "nobody-here"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2001:DB8::1", "2001:db8::1"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
        ("10.0.0.1", "10.0.0.1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("not-an-ip", None),
        ("", None),
    ],
)
def test_client_ip_is_hashed_as_postgres_returns_it(given, stored):
    with context.actor_context(client_ip=given):
        event = record_event(verb=Verb.AUTH_LOGOUT, object_type="accounts.user", object_id="1")
    assert normalize_ip(given) == stored
    event.refresh_from_db()
    assert event.client_ip == stored
    assert verify_chain().ok


@pytest.mark.django_db
def test_changes_with_decimals_dates_and_floats_survive_jsonb():
    import datetime as dt
    from decimal import Decimal

    record_event(
        verb=Verb.COMMITMENT_UPDATED, object_type="x", object_id=1,
        changes={"amount": {"before": Decimal("1.10"), "after": Decimal("2.50")},
                 "due": dt.date(2030, 1, 2), "ratio": 0.1, "nested": {"é": [1, None, True]}},
    )  # fmt: skip
    event = AuditEvent.objects.get()
    assert event.changes["amount"] == {"before": "1.10", "after": "2.50"}
    assert event.changes["due"] == "2030-01-02" and event.changes["ratio"] == "0.1"
    assert verify_chain().ok


@pytest.mark.django_db
def test_a_typo_cannot_create_a_new_kind_of_event():
    with pytest.raises(ValueError):
        record_event(verb="application.sumbitted", object_type="x", object_id=1)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_an_event_rolls_back_with_the_change_it_describes():
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(verb=Verb.TENANT_CREATED, object_type="tenancy.tenant", object_id="9")
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_bulk_recorder_chains_like_single_appends():
    first = record_event(verb=Verb.TENANT_CREATED, object_type="t", object_id="1")
    assert record_events(events=[{"verb": Verb.TENANT_CREATED, "object_type": "t", "object_id": str(n)}
                                 for n in range(2, 7)], batch_size=2) == 5  # fmt: skip
    last = record_event(verb=Verb.TENANT_CREATED, object_type="t", object_id="7")
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    assert ids[0] == first.id and ids[-1] == last.id and len(ids) == 7
    result = verify_chain()
    assert (
        result.ok
        and result.checked == 7
        and result.last_id == last.id
        and result.head_hash == last.hash
    )


@pytest.mark.django_db
def test_bulk_recorder_refuses_to_go_back_in_time():
    import datetime as dt

    record_event(verb=Verb.TENANT_CREATED, object_type="t", object_id="1")
    with pytest.raises(ValueError):
        record_events(
            events=[
                {"verb": Verb.TENANT_CREATED, "occurred_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)}
            ]
        )
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_form_one_chain():
    """Threads with their own connections append at once; the chain still has one order."""
    threads_n, per_thread = 8, 25
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            barrier.wait()
            for n in range(per_thread):
                with transaction.atomic():
                    record_event(verb=Verb.APPLICATION_UPDATED, object_type="test.thing",
                                 object_id=f"{worker}-{n}", changes={"n": n})  # fmt: skip
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(w,)) for w in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors

    total = threads_n * per_thread
    result = verify_chain()
    assert result.ok and result.checked == total, result
    assert (
        not AuditEvent.objects.values("prev_hash").annotate(n=Count("id")).filter(n__gt=1).exists()
    )
    rows = list(AuditEvent.objects.order_by("id").values_list("prev_hash", "hash"))
    assert rows[0][0] == GENESIS_HASH
    assert all(rows[i][0] == rows[i - 1][1] for i in range(1, total))
    # The threads really interleaved (else this proves nothing about serialization).
    workers = [
        oid.split("-")[0]
        for oid in AuditEvent.objects.order_by("id").values_list("object_id", flat=True)
    ]
    assert sum(1 for a, b in itertools.pairwise(workers) if a != b) > threads_n
