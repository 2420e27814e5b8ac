"""verify_chain(processes=N): the chain cut by id into parts walked side by side (forked
processes) gives exactly one walk's answer: the same head, count and checkpoints when whole,
the same first bad event, problem and count when broken, whichever part it is in (#16)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction

from portal.audit import verify
from portal.audit.checkpoints import write_checkpoint
from portal.audit.models import AuditEvent
from portal.audit.verify import verify_chain
from tests.portal.audit_helpers import make_events, owner_connection

pytestmark = pytest.mark.django_db(transaction=True)  # the other processes see committed rows


def _tamper(sql: str, params: list[object]) -> None:
    with owner_connection() as owner, owner.transaction():
        owner.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        owner.execute(sql, params)
        owner.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def _answer(result: verify.VerifyResult) -> tuple[object, ...]:
    return (
        result.ok, result.checked, result.first_bad_id, result.problem, result.last_id,
        result.head_hash, result.checkpoints, result.checkpoint,
    )  # fmt: skip


def _ids() -> list[int]:
    return list(AuditEvent.objects.order_by("id").values_list("id", flat=True))


@pytest.mark.parametrize("processes", [2, 3])
def test_a_whole_chain_gives_one_walks_answer(processes):  # type: ignore[no-untyped-def]
    make_events(40)
    ids = _ids()
    write_checkpoint(last_id=ids[9], head_hash=AuditEvent.objects.get(pk=ids[9]).hash)
    write_checkpoint(last_id=ids[30], head_hash=AuditEvent.objects.get(pk=ids[30]).hash)
    one = verify_chain(chunk_size=7)
    assert one.ok and one.checked == 40 and one.checkpoints == 2
    assert _answer(verify_chain(chunk_size=7, processes=processes)) == _answer(one)
    assert len(verify._cuts(processes)) == processes - 1  # it did cut the chain


@pytest.mark.parametrize("position", [3, 19, 20, 21, 38])
def test_a_rewrite_is_found_in_any_part(position):  # type: ignore[no-untyped-def]
    """Before, at and after the cut (event 20 of 40 ends the first of two parts)."""
    make_events(40)
    ids = _ids()
    _tamper("UPDATE audit_auditevent SET reason = 'nothing to see' WHERE id = %s", [ids[position]])
    one = verify_chain()
    assert (one.ok, one.first_bad_id, one.problem, one.checked) == (
        False,
        ids[position],
        "hash",
        position + 1,
    )
    assert _answer(verify_chain(processes=2)) == _answer(one)


def test_a_deletion_at_the_cut_and_a_missing_anchor():  # type: ignore[no-untyped-def]
    make_events(40)
    ids = _ids()
    ((cut_id, _, _),) = verify._cuts(2)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [cut_id])
    one = verify_chain()
    assert (one.ok, one.problem) == (False, "link")
    assert _answer(verify_chain(processes=2)) == _answer(one)
    # A checkpoint past the end (events removed from the tail) is found by the last part.
    write_checkpoint(last_id=ids[-1] + 5, head_hash="0" * 64)
    one = verify_chain()
    assert _answer(verify_chain(processes=2)) == _answer(one)


def test_one_walk_inside_a_transaction_and_for_a_short_chain(monkeypatch):  # type: ignore[no-untyped-def]
    make_events(3)
    forked = []
    monkeypatch.setattr(verify, "_in_parts", lambda **kw: forked.append(kw))
    with transaction.atomic():  # the others could not see this transaction's rows
        assert verify_chain(processes=2).ok
    assert not forked
    monkeypatch.undo()
    assert verify._cuts(2) == []  # too short to cut: one walk
    assert verify_chain(processes=2).checked == 3


def test_the_command_walks_in_parts():  # type: ignore[no-untyped-def]
    make_events(30)
    out = io.StringIO()
    call_command("verify_audit", "--processes", "2", stdout=out)
    assert json.loads(out.getvalue())["checked"] == 30
