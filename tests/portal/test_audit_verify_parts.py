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


def _spy_parts(monkeypatch):  # type: ignore[no-untyped-def]
    """How many parts' answers were joined (each part past the first is a forked process)."""
    joined: list[int] = []
    original = verify._joined

    def spy(results):  # type: ignore[no-untyped-def]
        joined.append(len(results))
        return original(results)

    monkeypatch.setattr(verify, "_joined", spy)
    return joined


def _checkpoint_at(event_id: int) -> None:
    write_checkpoint(last_id=event_id, head_hash=AuditEvent.objects.get(pk=event_id).hash)


@pytest.mark.parametrize("processes", [2, 3])
def test_a_whole_chain_gives_one_walks_answer(processes, monkeypatch):  # type: ignore[no-untyped-def]
    make_events(40)
    ids = _ids()
    _checkpoint_at(ids[9])
    _checkpoint_at(ids[30])
    for cut_id, _, _ in verify._cuts(processes):
        _checkpoint_at(cut_id)  # a checkpoint exactly on a cut
    one = verify_chain(chunk_size=7)
    assert one.ok and one.checked == 40 and one.checkpoints == 2 + processes - 1
    joined = _spy_parts(monkeypatch)
    assert _answer(verify_chain(chunk_size=7, processes=processes)) == _answer(one)
    assert joined == [processes]  # it did walk in that many parts


def test_a_checkpoint_past_the_end_of_an_intact_chain(monkeypatch):  # type: ignore[no-untyped-def]
    make_events(40)
    ids = _ids()
    write_checkpoint(last_id=ids[-1] + 5, head_hash="0" * 64)  # events removed from the tail
    one = verify_chain()
    assert (one.ok, one.first_bad_id, one.problem) == (False, ids[-1] + 5, "checkpoint")
    joined = _spy_parts(monkeypatch)
    assert _answer(verify_chain(processes=2)) == _answer(one)
    assert joined == [2]


def test_a_failing_part_after_the_first_finding_is_not_read(monkeypatch):  # type: ignore[no-untyped-def]
    """A later part's error never hides an earlier part's finding; alone, it is raised."""
    make_events(40)
    ids = _ids()
    walk = verify._walk

    def broken_after_the_cut(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs["after_id"] > 0:  # the forked part
            raise ValueError("row unreadable")
        return walk(**kwargs)

    monkeypatch.setattr(verify, "_walk", broken_after_the_cut)
    with pytest.raises(RuntimeError, match="ValueError: row unreadable"):
        verify_chain(processes=2)
    _tamper("UPDATE audit_auditevent SET reason = 'x' WHERE id = %s", [ids[5]])
    result = verify_chain(processes=2)
    assert (result.ok, result.first_bad_id, result.problem) == (False, ids[5], "hash")


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


def test_a_deletion_at_the_cut():  # type: ignore[no-untyped-def]
    make_events(40)
    ((cut_id, _, _),) = verify._cuts(2)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [cut_id])
    one = verify_chain()
    assert (one.ok, one.problem) == (False, "link")
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


def test_parts_that_do_not_join_are_walked_again_as_one(monkeypatch):  # type: ignore[no-untyped-def]
    """A cut read from one snapshot and walked in others (the cut event changed between):
    the first part must end on the cut's event and hash, else the chain is walked once."""
    make_events(40)
    one = verify_chain()
    ((cut_id, _, key_id),) = verify._cuts(2)
    monkeypatch.setattr(verify, "_cuts", lambda parts: [(cut_id, "f" * 64, key_id)])
    walks: list[int] = []
    walk = verify._walk

    def counted(**kwargs):  # type: ignore[no-untyped-def]
        walks.append(kwargs["after_id"])
        return walk(**kwargs)

    monkeypatch.setattr(verify, "_walk", counted)
    assert _answer(verify_chain(processes=2)) == _answer(one)  # not the forked part's "link"
    assert walks == [0, 0]  # the first part, then the one walk (the fork's is not counted here)
