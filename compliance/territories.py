"""The versioned territory list: load a new version of the file that
``compliance.territory_file`` parses, and diff. A new ``TerritoryListVersion`` is created
only when the rows or the cited records changed (checksum); every load that creates one is
audited with its diff, resets the screening outcomes recorded on applications that are not
final and, after commit, fans out the re-screening. The screening policy
(``screening_policy.json``) is versioned the same way (``screening_policy_load``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from compliance.models import ScreeningPolicyVersion, Territory, TerritoryListVersion
from compliance.screening import POLICY_FILE, PolicyError, parse_policy, policy_source_ids
from compliance.signals import rescreen_wanted
from compliance.territory_file import (
    DEFAULT_FILE,
    SOURCES_FILE,
    parse_territory_file,
)
from partnerships.workflow import screening_outcomes_reset
from portal.audit.record import record_event
from portal.audit.verbs import Verb

FIELDS = ("name", "supported", "basis", "groups", "comprehensive_sanctions", "sources", "notes")

# Serializes list loads against screenings (which take it shared): a screening never
# records an outcome against a list version that a concurrent load has just replaced.
LIST_LOCK = 0x54455252  # "TERR"


@dataclass(frozen=True)
class LoadResult:
    version: TerritoryListVersion
    created: bool
    diff: dict[str, Any] = field(default_factory=dict)


def territory_diff(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """``{"added": [codes], "removed": [codes], "changed": {code: {field: {before, after}}}}``."""
    changed: dict[str, dict[str, Any]] = {}
    for code in sorted(set(before) & set(after)):
        fields = {
            name: {"before": before[code][name], "after": after[code][name]}
            for name in FIELDS
            if before[code][name] != after[code][name]
        }
        if fields:
            changed[code] = fields
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": changed,
    }


def sources_diff(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> dict[str, list[str]]:
    """Which cited source records were added, removed or changed (by id)."""
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k]),
    }


def current_list_version() -> TerritoryListVersion | None:
    return TerritoryListVersion.objects.order_by("-number").first()


def current_policy_version() -> ScreeningPolicyVersion | None:
    return ScreeningPolicyVersion.objects.order_by("-number").first()


def territory_name(code: str) -> str | None:
    """The name of ``code`` on the current list, None when it is not on it (or no list is
    loaded). Lent to ``portal`` (portal.hooks) to check a new country's code."""
    return (
        Territory.objects.filter(
            version__number=TerritoryListVersion.objects.order_by("-number").values("number")[:1],
            code=code,
        )
        .values_list("name", flat=True)
        .first()
    )


def _rows_of(version: TerritoryListVersion) -> dict[str, dict[str, Any]]:
    return {
        t["code"]: {**t, "groups": list(t["groups"])}
        for t in version.territories.values("code", *FIELDS)
    }


def _lock_list_exclusive() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LIST_LOCK])


def territory_list_load(
    *, path: Path | str = DEFAULT_FILE, sources_path: Path | str = SOURCES_FILE, actor: Any = None
) -> LoadResult:
    """Load the file as a new list version if its rows or cited sources changed; idempotent.

    Raises ``TerritoryFileError`` (nothing loaded) for a bad file or source record. A new
    version that has a predecessor resets the applications' screening outcomes in the same
    transaction and starts the re-screening after commit. The first load also records the
    shipped screening policy if none is recorded yet, so a screening always names both.
    """
    policy = current_policy_version()
    policy_ids = frozenset(
        policy_source_ids(policy.content if policy else parse_policy_file(POLICY_FILE).content)
    )
    parsed = parse_territory_file(path, sources_path=sources_path, also_cited=policy_ids)
    with transaction.atomic():
        _lock_list_exclusive()
        previous = current_list_version()
        if previous is not None and previous.checksum == parsed.checksum:
            return LoadResult(version=previous, created=False)
        before = _rows_of(previous) if previous is not None else {}
        after = {row.code: row.as_dict() for row in parsed.rows}
        diff = territory_diff(before, after)
        diff["sources"] = sources_diff(previous.sources if previous else {}, parsed.records)
        version = TerritoryListVersion.objects.create(
            number=(previous.number + 1) if previous else 1,
            effective_date=parsed.effective_date or timezone.localdate(),
            source="\n".join(parsed.header),
            sources=parsed.records,
            checksum=parsed.checksum,
            diff=diff,
        )
        Territory.objects.bulk_create(
            Territory(version=version, **row.as_dict()) for row in parsed.rows
        )
        reset = screening_outcomes_reset() if previous is not None else 0
        record_event(
            verb=Verb.TERRITORY_LIST_LOADED,
            obj=version,
            actor=actor,
            changes={
                "number": version.number,
                "previous": previous.number if previous else None,
                "checksum": version.checksum,
                "effective_date": version.effective_date,
                "territories": len(parsed.rows),
                "diff": diff,
                "outcomes_reset": reset,
            },
            reason=f"loaded from {Path(path).name}",
        )
        if current_policy_version() is None:
            _record_policy(
                parse_policy_file(POLICY_FILE), previous=None, actor=actor, path=POLICY_FILE
            )
        if previous is not None:
            version_id = version.pk
            transaction.on_commit(lambda: _start_rescreen(version_id))
    return LoadResult(version=version, created=True, diff=diff)


@dataclass(frozen=True)
class ParsedPolicy:
    content: dict[str, Any]
    name: str
    checksum: str


@dataclass(frozen=True)
class PolicyLoadResult:
    version: ScreeningPolicyVersion
    created: bool
    reset: int = 0


def policy_checksum(content: dict[str, Any]) -> str:
    """SHA-256 of the policy's content (canonical JSON: layout and key order do not count)."""
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def parse_policy_file(path: Path | str = POLICY_FILE) -> ParsedPolicy:
    """Read and validate the policy file; raise ``PolicyError`` naming the problem."""
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PolicyError(f"cannot read the screening policy {Path(path).name}: {exc}") from exc
    if not isinstance(content, dict):
        raise PolicyError("the screening policy must be a JSON object")
    policy = parse_policy(content)
    return ParsedPolicy(content=content, name=policy.name, checksum=policy_checksum(content))


def _record_policy(
    parsed: ParsedPolicy, *, previous: ScreeningPolicyVersion | None, actor: Any, path: Path | str
) -> ScreeningPolicyVersion:
    version = ScreeningPolicyVersion.objects.create(
        number=(previous.number + 1) if previous else 1,
        name=parsed.name,
        checksum=parsed.checksum,
        content=parsed.content,
    )
    record_event(
        verb=Verb.SCREENING_POLICY_LOADED,
        obj=version,
        actor=actor,
        changes={
            "number": version.number,
            "previous": previous.number if previous else None,
            "name": version.name,
            "checksum": version.checksum,
        },
        reason=f"loaded from {Path(path).name}",
    )
    return version


def screening_policy_load(*, path: Path | str = POLICY_FILE, actor: Any = None) -> PolicyLoadResult:
    """Record the policy file as a new policy version if its content changed; idempotent.

    Raises ``PolicyError`` (nothing recorded) for a malformed policy or one that cites a
    source id the current territory list does not define. Like a new list version, a new
    policy version that has a predecessor resets the screening outcomes of applications not
    yet final, in the same transaction, and re-screens them after commit (the re-screening
    of the current list version is restarted: its progress counts again from zero).
    """
    parsed = parse_policy_file(path)
    with transaction.atomic():
        _lock_list_exclusive()
        previous = current_policy_version()
        if previous is not None and previous.checksum == parsed.checksum:
            return PolicyLoadResult(version=previous, created=False)
        current_list = current_list_version()
        if current_list is not None:
            missing = sorted(policy_source_ids(parsed.content) - set(current_list.sources))
            if missing:
                raise PolicyError(
                    f"the policy cites source id(s) {', '.join(missing)} that territory list "
                    f"v{current_list.number} does not define (SOURCES.md)"
                )
        version = _record_policy(parsed, previous=previous, actor=actor, path=path)
        if previous is None or current_list is None:
            return PolicyLoadResult(version=version, created=True)
        reset = screening_outcomes_reset()
        TerritoryListVersion.objects.filter(pk=current_list.pk).update(
            rescreen_total=0, rescreen_done=0, rescreen_started_at=None
        )
        list_id = current_list.pk
        transaction.on_commit(lambda: _start_rescreen(list_id))
    return PolicyLoadResult(version=version, created=True, reset=reset)


def _start_rescreen(version_id: int) -> None:
    """Ask the tasks (after commit) to re-screen every application against a new version."""
    rescreen_wanted.send(
        sender=TerritoryListVersion, list_version_id=version_id, application_ids=None
    )


def format_diff(diff: dict[str, Any]) -> list[str]:
    """Human-readable lines for the command's output and the territory pages."""
    lines = []
    if diff.get("added"):
        lines.append(f"added ({len(diff['added'])}): {' '.join(diff['added'])}")
    if diff.get("removed"):
        lines.append(f"removed ({len(diff['removed'])}): {' '.join(diff['removed'])}")
    for code, fields in diff.get("changed", {}).items():
        parts = [
            f"{name} {_show(change['before'])} → {_show(change['after'])}"
            for name, change in fields.items()
        ]
        lines.append(f"changed {code}: " + "; ".join(parts))
    for what, ids in diff.get("sources", {}).items():
        if ids:
            lines.append(f"sources {what} ({len(ids)}): {' '.join(ids)}")
    return lines or ["no change"]


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v or '-'}" for k, v in value.items()) + "}"
    return repr(value)
