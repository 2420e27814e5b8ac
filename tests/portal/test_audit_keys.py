"""The keyed chain and its signed checkpoints: what the owner role cannot do quietly.

Attackers here hold the owner's password (they lift the triggers and rewrite rows); some
also hold the audit key. Every rewrite must be reported, naming the first bad event.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
from typing import Any

import orjson
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from portal.audit.chain import (
    HASHED_FIELDS,
    canonical_fields,
    digest,
    encode,
    key_fingerprint,
    keyring,
)
from portal.audit.checkpoints import checkpoint_names, load_checkpoints
from portal.audit.models import AuditEvent
from portal.audit.record import record_event
from portal.audit.services import audit_checkpoint
from portal.audit.tasks import write_checkpoint
from portal.audit.verbs import Verb
from portal.audit.verify import verify_chain, verify_since_checkpoint
from tests.portal.audit_helpers import make_events, owner_connection
from tests.portal.test_audit_db import _run_verify_audit, _tamper

COLUMNS = ("id", "prev_hash", "hash", "key_id", *HASHED_FIELDS)


def _rows() -> list[dict[str, Any]]:
    return [
        dict(zip(COLUMNS, row, strict=True))
        for row in AuditEvent.objects.order_by("id").values_list(*COLUMNS)
    ]


def _rehash_from(victim: int, *, secret: bytes | None, reason: str) -> None:
    """The owner rewrites ``victim`` and recomputes every later hash (with ``secret``, or plain
    SHA-256 when the attacker lacks the key), then writes them all back."""
    rows = _rows()
    prev = None
    updates = []
    for row in rows:
        if row["id"] == victim:
            row["reason"] = reason
        if row["id"] >= victim:
            row["prev_hash"] = prev if prev is not None else row["prev_hash"]
            row["hash"] = digest(encode(canonical_fields(row, row["prev_hash"])), secret)
            updates.append((row["prev_hash"], row["hash"], row["reason"], row["id"]))
        prev = row["hash"]
    with owner_connection() as owner, owner.transaction():
        owner.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        owner.execute(
            "ALTER TABLE audit_auditevent DROP CONSTRAINT IF EXISTS audit_auditevent_hash_key"
        )
        for update in updates:
            owner.execute(
                "UPDATE audit_auditevent SET prev_hash = %s, hash = %s, reason = %s WHERE id = %s",
                update,
            )
        owner.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def _verify_audit_command(*args: str) -> tuple[dict[str, object], str | None]:
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except CommandError as exc:
        return json.loads(out.getvalue()), str(exc)
    return json.loads(out.getvalue()), None


def test_orjson_encodes_exactly_as_the_documented_reference():
    tricky = ['\x00\x1f\x7f\u2028\u2029"\\/\n\t', "é漢字😀", "\ud7ff\ue000\uffff", "", "=1+2"]
    rng = random.Random(12)
    for _ in range(2000):
        tricky.append("".join(chr(rng.choice([rng.randint(0, 0x7F), rng.randint(0x80, 0xD7FF),
                                              rng.randint(0xE000, 0x10FFFF)])) for _ in range(6)))  # fmt: skip
    for text in tricky:
        payload = {"b": text, text: [1, True, None, {"z": text, "é": -5, "e": 2**62}], "a": 2**70}
        reference = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert encode(payload) == reference.encode()


@pytest.mark.django_db
def test_events_are_keyed_with_the_audit_key_not_plain_sha256():
    event = record_event(verb=Verb.TENANT_CREATED, object_type="tenancy.tenant", object_id="1")
    row = _rows()[0]
    payload = encode(canonical_fields(row, row["prev_hash"]))
    assert event.key_id == key_fingerprint(keyring().current) and len(event.key_id) == 16
    assert event.hash == digest(payload, keyring().current)
    assert event.hash != hashlib.sha256(payload).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_owner_rewrite_with_recomputed_sha256_hashes_is_reported():
    """The attack of issue #12: lift the trigger, edit one event, recompute every later hash."""
    make_events(20)
    victim = _rows()[7]["id"]
    _rehash_from(victim, secret=None, reason="nothing to see")
    result = verify_chain()
    assert (result.ok, result.first_bad_id, result.problem) == (False, victim, "hash")
    proc = _run_verify_audit()
    assert proc.returncode == 1 and f"broken at event {victim}" in proc.stderr
    assert json.loads(proc.stdout)["first_bad_id"] == victim


@pytest.mark.django_db(transaction=True)
def test_owner_rewrite_with_a_guessed_key_is_reported_as_a_bad_hash():
    make_events(20)
    victim = _rows()[7]["id"]
    _rehash_from(victim, secret=b"a guess", reason="nothing to see")
    report, error = _verify_audit_command()
    assert (report["ok"], report["first_bad_id"], report["problem"]) == (False, victim, "hash")
    assert error == f"audit chain broken at event {victim} (hash)"


@pytest.mark.django_db(transaction=True)
def test_even_a_rewrite_with_the_key_is_caught_by_the_checkpoint_outside_the_database():
    make_events(20)
    _, checkpoint = audit_checkpoint()  # anchors event 20's hash in the storage
    assert checkpoint is not None
    anchored = checkpoint.last_id
    make_events(5)
    victim = _rows()[7]["id"]
    _rehash_from(victim, secret=keyring().current, reason="rewritten by an insider")
    report, error = _verify_audit_command()
    assert (report["ok"], report["first_bad_id"], report["problem"]) == (
        False,
        anchored,
        "checkpoint",
    )
    assert report["checkpoint"] == checkpoint.name
    assert error == f"audit chain broken at event {anchored} (checkpoint)"
    # The badge's incremental check sees it too: the anchored event no longer matches.
    quick = verify_since_checkpoint()
    assert (quick.ok, quick.first_bad_id, quick.problem) == (False, anchored, "checkpoint")
    proc = _run_verify_audit()
    assert proc.returncode == 1 and json.loads(proc.stdout)["first_bad_id"] == anchored


@pytest.mark.django_db(transaction=True)
def test_a_row_forged_by_the_application_role_fails_verification():
    """The app role may INSERT: a row with a hash it computed without the key is caught."""
    make_events(3)
    head = _rows()[-1]
    forged = {**head, "reason": "forged", "prev_hash": head["hash"]}
    forged_hash = hashlib.sha256(encode(canonical_fields(forged, head["hash"]))).hexdigest()
    with connection.cursor() as cursor:
        # An application role (tests run as the worker role; the web role has the same grants).
        assert cursor.connection.info.user in {"portal_app", "portal_worker"}
        for key_id in (keyring().current_id, ""):  # claiming the current key, or none
            cursor.execute(
                "INSERT INTO audit_auditevent (occurred_at, actor_username, actor_label, role, "
                "tenant_code, verb, object_type, object_id, object_label, changes, reason, "
                "request_id, prev_hash, hash, key_id) SELECT occurred_at, actor_username, "
                "actor_label, role, tenant_code, verb, object_type, object_id, object_label, "
                "changes, 'forged', request_id, %s, %s, %s FROM audit_auditevent WHERE id = %s "
                "RETURNING id",
                [head["hash"], forged_hash if key_id else forged_hash[::-1], key_id, head["id"]],
            )
            forged_id = cursor.fetchone()[0]
            result = verify_chain()
            assert (result.ok, result.first_bad_id) == (False, forged_id)
            assert result.problem == ("hash" if key_id else "key")
            with owner_connection() as owner, owner.transaction():
                owner.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
                owner.execute("DELETE FROM audit_auditevent WHERE id = %s", [forged_id])
                owner.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_deleting_the_anchored_tail_is_caught_by_the_checkpoint():
    make_events(10)
    _, checkpoint = audit_checkpoint()
    last = checkpoint.last_id
    _tamper("DELETE FROM audit_auditevent WHERE id >= %s", [last - 2])
    result = verify_chain()
    assert (result.ok, result.first_bad_id, result.problem) == (False, last, "checkpoint")


@pytest.mark.django_db
def test_checkpoints_are_signed_files_and_a_forged_one_is_refused():
    make_events(4)
    _, first = audit_checkpoint()
    make_events(3)
    _, second = audit_checkpoint()
    assert checkpoint_names() == [first.name, second.name]
    stored = orjson.loads(default_storage.open(second.name).read())
    assert set(stored) == {"created_at", "head_hash", "key_id", "last_id", "signature", "version"}
    assert stored["head_hash"] == AuditEvent.objects.get(id=stored["last_id"]).hash
    assert all(cp.valid for cp in load_checkpoints())
    recorded = AuditEvent.objects.filter(verb=Verb.AUDIT_CHECKPOINTED).order_by("id")
    assert [e.changes["name"] for e in recorded] == [first.name, second.name]

    result = verify_chain()
    assert result.ok and result.checkpoints == 2

    # Someone who can write the storage but lacks the key cannot forge a checkpoint.
    forged = {**stored, "head_hash": "f" * 64}
    default_storage.save(f"{second.name[:-5]}-forged.json", ContentFile(orjson.dumps(forged)))
    result = verify_chain()
    assert (result.ok, result.problem, result.first_bad_id) == (
        False,
        "checkpoint",
        stored["last_id"],
    )
    assert result.checkpoint.endswith("-forged.json")


@pytest.mark.django_db
def test_incremental_verification_walks_only_what_follows_the_newest_checkpoint():
    make_events(50)
    audit_checkpoint()
    make_events(7)
    quick = verify_since_checkpoint()
    full = verify_chain()
    assert quick.ok and full.ok
    assert quick.checked == 8  # the checkpoint's own audit.checkpointed event and 7 more
    assert full.checked == 58 and quick.head_hash == full.head_hash
    assert full.last_id is not None and quick.from_id == full.last_id - 8


@pytest.mark.django_db(transaction=True)
def test_no_checkpoint_is_written_over_a_broken_chain(caplog):
    make_events(5)
    victim = _rows()[2]["id"]
    _tamper("UPDATE audit_auditevent SET reason = 'x' WHERE id = %s", [victim])
    result, checkpoint = audit_checkpoint()
    assert checkpoint is None and checkpoint_names() == []
    assert (result.ok, result.first_bad_id) == (False, victim)
    assert "no checkpoint written" in caplog.text


@pytest.mark.django_db
def test_key_rotation_keeps_older_events_verifiable_and_refuses_going_back(settings):
    old = settings.PORTAL_AUDIT_KEY
    make_events(3)
    settings.PORTAL_AUDIT_KEY, settings.PORTAL_AUDIT_OLD_KEYS = b"the new key", [old]
    make_events(3)
    rows = _rows()
    assert {r["key_id"] for r in rows[:3]} == {key_fingerprint(old)}
    assert {r["key_id"] for r in rows[3:]} == {key_fingerprint(b"the new key")}
    assert verify_chain().ok

    # Without the retired key, its events cannot be checked: reported, not skipped.
    settings.PORTAL_AUDIT_OLD_KEYS = []
    result = verify_chain()
    assert (result.ok, result.first_bad_id, result.problem) == (False, rows[0]["id"], "key")

    # An event signed with the retired key after the rotation is refused.
    settings.PORTAL_AUDIT_KEY, settings.PORTAL_AUDIT_OLD_KEYS = old, [b"the new key"]
    make_events(1)
    settings.PORTAL_AUDIT_KEY, settings.PORTAL_AUDIT_OLD_KEYS = b"the new key", [old]
    result = verify_chain()
    assert (result.ok, result.first_bad_id, result.problem) == (False, _rows()[-1]["id"], "key")


@pytest.mark.django_db
def test_the_hourly_task_writes_a_checkpoint(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert schedule["task"] == "audit.write_checkpoint" and schedule["schedule"] <= 3600
    make_events(3)
    outcome = write_checkpoint()
    assert outcome["ok"] is True and outcome["written"] == checkpoint_names()[0]
    event = AuditEvent.objects.get(verb=Verb.AUDIT_CHECKPOINTED)
    assert event.actor_label == "task:audit.write_checkpoint"


@pytest.mark.django_db
def test_verify_audit_since_checkpoint_option():
    make_events(30)
    call_command("audit_checkpoint", stdout=io.StringIO())
    make_events(2)
    report, error = _verify_audit_command("--since-checkpoint")
    assert error is None and report["ok"] and report["checked"] == 3
