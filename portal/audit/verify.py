"""Walk the audit chain in id order, streaming, in constant memory; check the checkpoints.

Speed (a million events in seconds): rows come as plain tuples from a server-side cursor
(no model or dict per row from Django), fetched by a thread one batch ahead of the hashing
so that PostgreSQL formats the next rows while this process hashes; PostgreSQL formats the
timestamp, the address and the actor id as the canonical text, and each payload is encoded
by orjson and keyed by HMAC-SHA-256 states prepared once per key (``hmac_sha256_hex``).
bench/README.md has the measured numbers.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from django.db import connection, connections, transaction

from portal.audit.chain import GENESIS_HASH, LEGACY_KEY_ID, Keyring, encode, keyring
from portal.audit.checkpoints import Checkpoint, load_checkpoints

# The hashed fields (chain.HASHED_FIELDS and prev_hash), after id, key_id and hash; the
# payload dict in _walk_cursor names them in this order.
_SELECT = """
    SELECT id, key_id, hash, prev_hash,
           to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           actor_id::text, actor_username, actor_label, role, tenant_code, verb, object_type,
           object_id, object_label, changes::text, reason, request_id, host(client_ip)
    FROM audit_auditevent WHERE id > %s ORDER BY id
"""
_SELECT_UNTIL = _SELECT.replace("WHERE id > %s", "WHERE id > %s AND id <= %s")


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None
    # "hash": the event's content no longer matches its keyed hash (edited, or forged
    # without the key); "link": its prev_hash does not name the event before it (that one
    # was rewritten and re-hashed, or deleted); "key": signed by an unknown key, or by an
    # older key after a newer one; "checkpoint": it differs from (or is missing at) a signed
    # checkpoint kept outside the database, or a checkpoint's own signature is wrong.
    problem: str | None = None
    last_id: int | None = None  # the head of the chain when ok
    head_hash: str | None = None
    from_id: int = 0  # incremental: events after this (a trusted checkpoint) were walked
    checkpoints: int = 0  # signed checkpoints compared with the chain
    checkpoint: str | None = None  # the checkpoint involved in a "checkpoint" problem
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_id": self.first_bad_id,
            "problem": self.problem,
            "last_id": self.last_id,
            "head_hash": self.head_hash,
            "from_id": self.from_id,
            "checkpoints": self.checkpoints,
            "checkpoint": self.checkpoint,
        }


def _walk(
    *,
    after_id: int,
    expected_prev: str,
    rank: int,
    keys: Keyring,
    anchors: dict[int, Checkpoint],
    chunk_size: int,
    until_id: int | None = None,
) -> VerifyResult:
    """Check every event after ``after_id`` (up to ``until_id`` when given): key order, keyed
    hash, link, anchors."""
    # A named (server-side) cursor needs a transaction; it also gives one snapshot.
    with transaction.atomic():
        connection.ensure_connection()
        return _walk_cursor(
            connection.connection, after_id=after_id, expected_prev=expected_prev, rank=rank,
            keys=keys, anchors=anchors, chunk_size=chunk_size, until_id=until_id,
        )  # fmt: skip


def _walk_cursor(
    conn: Any,
    *,
    after_id: int,
    expected_prev: str,
    rank: int,
    keys: Keyring,
    anchors: dict[int, Checkpoint],
    chunk_size: int,
    until_id: int | None,
) -> VerifyResult:
    """``_walk`` on a psycopg connection already inside the transaction (and snapshot) to read."""
    checked = 0
    last_id: int | None = after_id or None
    pending = sorted(
        cp_id for cp_id in anchors if cp_id > after_id and (until_id is None or cp_id <= until_id)
    )
    next_anchor = pending.pop(0) if pending else None
    order = keys.order
    keyed = {key_id: hmac_sha256_hex(secret) for key_id, secret in keys.secrets.items()}
    keyed[LEGACY_KEY_ID] = _sha256_hex
    found = 0
    loads, dumps, sort_keys = orjson.loads, orjson.dumps, orjson.OPT_SORT_KEYS

    def bad(event_id: int, problem: str, cp: Checkpoint | None = None) -> VerifyResult:
        return VerifyResult(
            ok=False, checked=checked, first_bad_id=event_id, problem=problem,
            from_id=after_id, checkpoints=found, checkpoint=cp.name if cp else None,
        )  # fmt: skip

    raw = conn.cursor(name="portal_audit_verify")
    with raw:  # closed on every way out, early returns included
        if until_id is None:
            raw.execute(_SELECT, [after_id])
        else:
            raw.execute(_SELECT_UNTIL, [after_id, until_id])
        rows = _Prefetch(raw, chunk_size)
        try:
            for (
                event_id, key_id, stored, prev_hash, occurred_at, actor_id, actor_username,
                actor_label, role, tenant_code, verb, object_type, object_id, object_label,
                changes, reason, request_id, client_ip,
            ) in rows:  # fmt: skip
                checked += 1
                if next_anchor is not None and next_anchor < event_id:
                    # The event a checkpoint anchored is gone.
                    return bad(next_anchor, "checkpoint", anchors[next_anchor])
                key_rank = order.get(key_id)
                if key_rank is None or key_rank < rank:
                    return bad(event_id, "key")
                rank = key_rank
                fields = {
                    "prev_hash": prev_hash, "occurred_at": occurred_at, "actor_id": actor_id,
                    "actor_username": actor_username, "actor_label": actor_label,
                    "role": role, "tenant_code": tenant_code, "verb": verb,
                    "object_type": object_type, "object_id": object_id,
                    "object_label": object_label, "changes": None,
                    "reason": reason, "request_id": request_id, "client_ip": client_ip,
                }  # fmt: skip
                try:
                    fields["changes"] = loads(changes)
                    payload = dumps(fields, option=sort_keys)
                except orjson.JSONDecodeError:  # an integer orjson cannot read (10**310)
                    payload = b""
                if (
                    keyed[key_id](payload) != stored
                    and keyed[key_id](_exact(fields, changes)) != stored
                ):
                    return bad(event_id, "hash")
                if prev_hash != expected_prev:
                    return bad(event_id, "link")
                if event_id == next_anchor:
                    if anchors[event_id].head_hash != stored:
                        return bad(event_id, "checkpoint", anchors[event_id])
                    found += 1
                    next_anchor = pending.pop(0) if pending else None
                expected_prev = stored
                last_id = event_id
        finally:
            rows.close()
    if next_anchor is not None:  # a checkpoint names an event beyond the end: events removed
        return bad(next_anchor, "checkpoint", anchors[next_anchor])
    return VerifyResult(
        ok=True, checked=checked, first_bad_id=None, last_id=last_id,
        head_hash=None if last_id is None else expected_prev, from_id=after_id, checkpoints=found,
    )  # fmt: skip


def _exact(fields: dict[str, Any], changes: str) -> bytes:
    """The payload as the recorder encoded it when orjson's reading may differ: orjson reads
    an integer beyond 64 bits as a float, where the recorder kept it exact (``encode`` falls
    back to the reference encoder for those). Only asked on a mismatch, so it costs the
    common case nothing and spares a false "hash" alarm. Empty where even Python cannot read
    it (an integer beyond its 4,300 digits, which the recorder could not have written)."""
    try:
        return encode({**fields, "changes": json.loads(changes)})
    except ValueError:
        return b""


def hmac_sha256_hex(secret: bytes) -> Callable[[bytes], str]:
    """HMAC-SHA-256 hex under ``secret`` (RFC 2104), with the keyed inner and outer states
    computed once: per message two copies and two updates, half the cost of ``hmac.digest``
    (which sets the key up again for every event). Equal to
    ``hmac.digest(secret, data, "sha256").hex()`` (tests/portal/test_audit_verify_fast.py)."""
    if len(secret) > 64:  # the block size: longer keys are hashed first
        secret = hashlib.sha256(secret).digest()
    secret = secret.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in secret))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in secret))

    def keyed(data: bytes) -> str:
        h = inner.copy()
        h.update(data)
        o = outer.copy()
        o.update(h.digest())
        return o.hexdigest()

    return keyed


def _sha256_hex(data: bytes) -> str:  # legacy events: plain SHA-256
    return hashlib.sha256(data).hexdigest()


class _Prefetch:
    """The rows of a server-side cursor, each batch fetched by a thread while the previous
    one is hashed: PostgreSQL formats the next rows (and the socket waits, without the GIL)
    in parallel with the hashing. At most ``depth`` batches are alive at once (the one being
    hashed and the one being fetched), so memory stays flat."""

    def __init__(self, cursor: Any, chunk_size: int, depth: int = 2) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._slots = threading.Semaphore(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(cursor, chunk_size), name="audit-verify-fetch", daemon=True
        )
        self._thread.start()

    def _run(self, cursor: Any, chunk_size: int) -> None:
        try:
            while not self._stop.is_set():
                if not self._slots.acquire(timeout=0.1):
                    continue
                batch = cursor.fetchmany(chunk_size)
                self._queue.put(batch)
                if not batch:
                    return
        except BaseException as exc:  # handed to the reader, which raises it
            self._queue.put(exc)

    def __iter__(self) -> Iterator[tuple]:  # type: ignore[type-arg]
        while True:
            batch = self._queue.get()
            if isinstance(batch, BaseException):
                raise batch
            if not batch:
                return
            yield from batch
            del batch
            self._slots.release()

    def close(self) -> None:
        """Stop fetching; returns once the thread no longer uses the cursor."""
        self._stop.set()
        self._thread.join()


def _signature_problem(checkpoints: list[Checkpoint]) -> VerifyResult | None:
    for cp in checkpoints:
        if not cp.valid:
            return VerifyResult(
                ok=False, checked=0, first_bad_id=cp.last_id, problem="checkpoint",
                checkpoint=cp.name,
            )  # fmt: skip
    return None


def verify_chain(*, chunk_size: int = 5000, processes: int = 1) -> VerifyResult:
    """Recompute every keyed hash from the first event; compare every signed checkpoint.

    Reads through a server-side cursor, so memory stays flat however long the chain is; the
    one query sees one snapshot, so appends made meanwhile are not half-read.

    ``processes`` > 1 (the ``verify_audit`` command, the benchmark): the chain is cut by id
    into that many parts, each walked by its own process on its own connection (this one
    walks the first; the others are forked), and the answer is the one walk's (``_in_parts``).
    Where a process cannot fork (inside a transaction, whose rows the others could not see;
    in a daemonic process such as a Celery pool's) the chain is walked here, in one part.
    """
    checkpoints = load_checkpoints()
    problem = _signature_problem(checkpoints)
    if problem:
        return problem
    anchors = {cp.last_id: cp for cp in checkpoints}
    keys = keyring()
    if processes > 1 and _can_fork():
        cuts = _cuts(processes)
        if cuts:
            return _in_parts(cuts=cuts, keys=keys, anchors=anchors, chunk_size=chunk_size)
    return _walk_part(_WHOLE, keys=keys, anchors=anchors, chunk_size=chunk_size)


def _can_fork() -> bool:
    return (
        hasattr(os, "fork")
        and not connection.in_atomic_block
        and not multiprocessing.current_process().daemon
    )


@dataclass(frozen=True)
class _Part:
    after_id: int
    expected_prev: str
    rank: int
    until_id: int | None  # None: to the end of the chain


_WHOLE = _Part(after_id=0, expected_prev=GENESIS_HASH, rank=-1, until_id=None)


def _walk_part(
    part: _Part, *, keys: Keyring, anchors: dict[int, Checkpoint], chunk_size: int
) -> VerifyResult:
    return _walk(
        after_id=part.after_id, expected_prev=part.expected_prev, rank=part.rank, keys=keys,
        anchors=anchors, chunk_size=chunk_size, until_id=part.until_id,
    )  # fmt: skip


def _in_parts(
    *,
    cuts: list[tuple[int, str, str]],
    keys: Keyring,
    anchors: dict[int, Checkpoint],
    chunk_size: int,
) -> VerifyResult:
    """The walk of ``verify_chain``, cut at ``cuts`` (``_cuts``) into parts walked side by
    side.

    Why: one process hashes about 100,000 events a second and is bound by the GIL (fetching
    and hashing share it), so a million events took 12 s on a slower day; two processes took
    8 (#16, bench/README.md). The same checks as one walk: part ``i`` starts where part
    ``i - 1`` ends, from the stored hash and key of that part's last event, which part
    ``i - 1`` verifies; so the first problem of the earliest failing part is the first
    problem of the chain, with ``checked`` counted as one walk counts it.
    """
    plan = [_WHOLE]
    for cut_id, stored, key_id in cuts:
        plan[-1] = replace(plan[-1], until_id=cut_id)
        plan.append(
            _Part(
                after_id=cut_id,
                expected_prev=stored,
                rank=keys.order.get(key_id, -1),
                until_id=None,
            )
        )

    def walk(part: _Part) -> VerifyResult:
        return _walk_part(part, keys=keys, anchors=anchors, chunk_size=chunk_size)

    connections.close_all()  # each process opens its own connection, none shares this one
    context = multiprocessing.get_context("fork")
    children = []
    try:
        for part in plan[1:]:
            receiving, sending = context.Pipe(duplex=False)
            child = context.Process(target=_walk_in_child, args=(walk, part, sending), daemon=True)
            child.start()
            sending.close()
            children.append((child, receiving))
        results = [walk(plan[0])]
        # In order: the earliest part that fails gives the answer, as one walk would; a
        # later part's answer (or error) is then never read.
        for (child, receiving), part in zip(children, plan[1:], strict=True):
            if not results[-1].ok:
                break
            if (results[-1].last_id, results[-1].head_hash) != (part.after_id, part.expected_prev):
                # The cut event changed between reading the cuts and walking (each process
                # has its own snapshot): walk the chain once, in one snapshot.
                return walk(_WHOLE)
            try:
                answer = receiving.recv()
            except EOFError:  # it ended without a word
                child.join()
                answer = f"exit code {child.exitcode}"
            if not isinstance(answer, VerifyResult):
                raise RuntimeError(f"audit verification: a part failed: {answer}")
            results.append(answer)
    finally:
        for child, receiving in children:
            receiving.close()
            if child.is_alive():
                child.terminate()  # its answer is not needed (or the walk failed here)
            child.join()
    return _joined(results)


def _cuts(parts: int) -> list[tuple[int, str, str]]:
    """``(id, hash, key_id)`` of the event ending each part but the last: ids spread evenly
    between the first and the last (ids are gaps-free but for deletions, which the walk
    reports)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM audit_auditevent")
        low, high = cursor.fetchone()
        if low is None or high - low < 2 * parts:
            return []
        cuts: list[tuple[int, str, str]] = []
        for i in range(1, parts):
            cursor.execute(
                "SELECT id, hash, key_id FROM audit_auditevent WHERE id <= %s "
                "ORDER BY id DESC LIMIT 1",
                [low + (high - low) * i // parts],
            )
            row = cursor.fetchone()
            if row is not None and (not cuts or row[0] > cuts[-1][0]):
                cuts.append((row[0], row[1], row[2]))
    return cuts


def _walk_in_child(walk: Callable[[_Part], VerifyResult], part: _Part, sending: Any) -> None:
    try:
        sending.send(walk(part))
    except BaseException as exc:  # told to the parent, which raises
        sending.send(f"{type(exc).__name__}: {exc}")
    finally:
        connections.close_all()
        sending.close()


def _joined(results: list[VerifyResult]) -> VerifyResult:
    """The parts' answers as one walk's: the earliest failing part's problem, or the whole."""
    checked = found = 0
    for result in results:
        if not result.ok:
            return replace(
                result, checked=checked + result.checked, checkpoints=found + result.checkpoints,
                from_id=0,
            )  # fmt: skip
        checked += result.checked
        found += result.checkpoints
    last = results[-1]
    return VerifyResult(
        ok=True, checked=checked, first_bad_id=None, last_id=last.last_id,
        head_hash=last.head_hash, from_id=0, checkpoints=found,
    )  # fmt: skip


def verify_since_checkpoint(*, chunk_size: int = 5000) -> VerifyResult:
    """Incremental: trust the newest signed checkpoint that still matches, walk what follows.

    The anchored event must still carry the checkpoint's hash (any re-hashed rewrite before
    it changes that hash); every later event is checked in full. Without a usable checkpoint
    this is ``verify_chain``. The explorer's badge uses it, so it stays instant at any length.
    """
    checkpoints = [cp for cp in load_checkpoints() if cp.valid]
    if not checkpoints:
        return verify_chain(chunk_size=chunk_size)
    newest = checkpoints[-1]
    keys = keyring()
    with connection.cursor() as cursor:
        cursor.execute("SELECT hash, key_id FROM audit_auditevent WHERE id = %s", [newest.last_id])
        row = cursor.fetchone()
    if row is None or row[0] != newest.head_hash:
        return VerifyResult(
            ok=False, checked=0, first_bad_id=newest.last_id, problem="checkpoint",
            from_id=newest.last_id, checkpoints=1, checkpoint=newest.name,
        )  # fmt: skip
    result = _walk(
        after_id=newest.last_id, expected_prev=newest.head_hash, rank=keys.order.get(row[1], -1),
        keys=keys, anchors={}, chunk_size=chunk_size,
    )  # fmt: skip
    return VerifyResult(**{**result.__dict__, "checkpoints": 1})
