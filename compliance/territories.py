"""The versioned territory list: parse and validate the data file, load a new version, diff.

The file format is described in ``compliance/data/SOURCES.md``: ``#`` comment lines (the
header names every source), then a CSV with the columns in ``COLUMNS``. A new
``TerritoryListVersion`` is created only when the rows changed (checksum); every load that
creates one is audited with its diff, resets the screening outcomes recorded on
applications that are not final and, after commit, fans out the re-screening.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pycountry
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from compliance.models import Territory, TerritoryListVersion
from partnerships.models import CountryApplication
from partnerships.workflow import FINAL_STATES
from portal.audit.record import record_event
from portal.audit.verbs import Verb

logger = logging.getLogger(__name__)

DEFAULT_FILE = Path(settings.BASE_DIR) / "compliance" / "data" / "territories.csv"
COLUMNS = ["code", "name", "supported", "groups", "comprehensive_sanctions", "notes"]
#: EAR Country Group names (15 CFR Part 740, Supp. No. 1); the file may use any of them.
KNOWN_GROUPS = frozenset(
    ["A:1", "A:2", "A:3", "A:4", "A:5", "A:6", "B", "D:1", "D:2", "D:3", "D:4", "D:5", "E:1", "E:2"]
)
#: Codes that are neither ISO 3166-1 nor ISO 3166-2 but are used in practice.
USER_ASSIGNED_CODES = frozenset({"XK"})  # Kosovo
BOOLEANS = {"true": True, "false": False}
FIELDS = ("name", "supported", "groups", "comprehensive_sanctions", "notes")

# Serializes list loads against screenings (which take it shared): a screening never
# records an outcome against a list version that a concurrent load has just replaced.
LIST_LOCK = 0x54455252  # "TERR"

_EFFECTIVE = re.compile(r"^#\s*effective:\s*(\S+)\s*$", re.IGNORECASE)
_SOURCE = re.compile(r"^#\s*(SOURCE\b.*|Retrieved:.*)$")
_CONTINUATION = re.compile(r"^#\s{2,}(\S.*)$")


class TerritoryFileError(Exception):
    """The file is not a valid territory list; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass(frozen=True)
class TerritoryRow:
    code: str
    name: str
    supported: bool
    groups: tuple[str, ...]
    comprehensive_sanctions: bool
    notes: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["groups"] = list(self.groups)
        return data


@dataclass(frozen=True)
class ParsedList:
    rows: list[TerritoryRow]
    sources: list[str]
    effective_date: dt.date | None
    checksum: str


@dataclass(frozen=True)
class LoadResult:
    version: TerritoryListVersion
    created: bool
    diff: dict[str, Any] = field(default_factory=dict)


def is_known_code(code: str) -> bool:
    """ISO 3166-1 alpha-2, an ISO 3166-2 subdivision (Crimea …) or a user-assigned code."""
    if code != code.upper():
        return False
    if code in USER_ASSIGNED_CODES:
        return True
    if len(code) == 2:
        return pycountry.countries.get(alpha_2=code) is not None
    return "-" in code and pycountry.subdivisions.get(code=code) is not None


def rows_checksum(rows: list[TerritoryRow]) -> str:
    """SHA-256 over the rows only: editing comments alone does not make a new version."""
    canonical = json.dumps(
        [r.as_dict() for r in sorted(rows, key=lambda r: r.code)], sort_keys=True
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _parse_bool(value: str, column: str, line: int, errors: list[str]) -> bool:
    parsed = BOOLEANS.get(value.strip())
    if parsed is None:
        errors.append(f"line {line}: {column} must be 'true' or 'false', not {value!r}")
        return False
    return parsed


def parse_territory_text(text: str) -> ParsedList:
    """Parse and validate the whole file; raise ``TerritoryFileError`` listing every problem."""
    errors: list[str] = []
    sources: list[str] = []
    effective: dt.date | None = None
    data_lines: list[tuple[int, str]] = []
    in_source = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):
            in_source = False
            if line.strip():
                data_lines.append((number, line))
            continue
        if match := _EFFECTIVE.match(line):
            try:
                effective = dt.date.fromisoformat(match.group(1))
            except ValueError:
                errors.append(f"line {number}: effective date {match.group(1)!r} is not YYYY-MM-DD")
        elif match := _SOURCE.match(line):
            sources.append(match.group(1).strip())
            in_source = True
        elif in_source and (match := _CONTINUATION.match(line)):
            sources.append("  " + match.group(1).strip())
        else:
            in_source = False
    if not any(line.startswith("SOURCE") for line in sources):
        errors.append("the header names no source: add '# SOURCE n (what): where' lines")
    if not data_lines:
        raise TerritoryFileError([*errors, "the file has no header row and no territories"])

    # One record per line: a quoted field spanning lines then shows up as a column-count error.
    records = [next(csv.reader([line])) for _, line in data_lines]
    header = [h.strip() for h in records[0]]
    if header != COLUMNS:
        raise TerritoryFileError(
            [
                *errors,
                f"line {data_lines[0][0]}: header must be {','.join(COLUMNS)}, not {','.join(header)}",
            ]
        )
    rows: list[TerritoryRow] = []
    seen: dict[str, int] = {}
    for (number, _), record in zip(data_lines[1:], records[1:], strict=True):
        if len(record) != len(COLUMNS):
            errors.append(f"line {number}: expected {len(COLUMNS)} columns, found {len(record)}")
            continue
        code, name, supported, groups, sanctions, notes = (v.strip() for v in record)
        if not is_known_code(code):
            errors.append(f"line {number}: unknown territory code {code!r} (not ISO 3166-1/3166-2)")
        if code in seen:
            errors.append(f"line {number}: duplicate code {code} (first on line {seen[code]})")
        seen.setdefault(code, number)
        if not name:
            errors.append(f"line {number}: {code} has no name")
        group_list = tuple(groups.split())
        bad = [g for g in group_list if g not in KNOWN_GROUPS]
        if bad:
            errors.append(
                f"line {number}: unknown EAR country group(s) {', '.join(bad)} for {code} "
                f"(known: {' '.join(sorted(KNOWN_GROUPS))})"
            )
        if len(set(group_list)) != len(group_list):
            errors.append(f"line {number}: a group is repeated for {code}")
        rows.append(
            TerritoryRow(
                code=code,
                name=name,
                supported=_parse_bool(supported, "supported", number, errors),
                groups=group_list,
                comprehensive_sanctions=_parse_bool(
                    sanctions, "comprehensive_sanctions", number, errors
                ),
                notes=notes,
            )
        )
    if not rows and not errors:
        errors.append("the file lists no territories")
    if errors:
        raise TerritoryFileError(errors)
    return ParsedList(
        rows=rows, sources=sources, effective_date=effective, checksum=rows_checksum(rows)
    )


def parse_territory_file(path: Path | str) -> ParsedList:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TerritoryFileError([f"cannot read {path}: {exc}"]) from exc
    return parse_territory_text(text)


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


def current_list_version() -> TerritoryListVersion | None:
    return TerritoryListVersion.objects.order_by("-number").first()


def _rows_of(version: TerritoryListVersion) -> dict[str, dict[str, Any]]:
    return {
        t["code"]: {**t, "groups": list(t["groups"])}
        for t in version.territories.values("code", *FIELDS)
    }


def reset_screening_outcomes(*, list_version: TerritoryListVersion) -> int:
    """Forget outcomes recorded against older lists, so no guard trusts them any more.

    Applications not yet final only; the re-screening writes the new outcome. Not a
    workflow action: the state and the application's version do not change.
    """
    return (
        CountryApplication.objects.exclude(state__in=FINAL_STATES)
        .exclude(screening_outcome="", screening_list_version=None)
        .update(
            screening_outcome="",
            screening_list_version=None,
            screening_summary=[],
            screening_hold_cleared=False,
        )
    )


def territory_list_load(*, path: Path | str = DEFAULT_FILE, actor: Any = None) -> LoadResult:
    """Load the file as a new list version if its rows changed; idempotent.

    Raises ``TerritoryFileError`` (nothing loaded) for a bad file. A new version that has a
    predecessor resets the applications' screening outcomes in the same transaction and
    starts the re-screening after commit.
    """
    parsed = parse_territory_file(path)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LIST_LOCK])
        previous = current_list_version()
        if previous is not None and previous.checksum == parsed.checksum:
            return LoadResult(version=previous, created=False)
        before = _rows_of(previous) if previous is not None else {}
        after = {row.code: row.as_dict() for row in parsed.rows}
        diff = territory_diff(before, after)
        version = TerritoryListVersion.objects.create(
            number=(previous.number + 1) if previous else 1,
            effective_date=parsed.effective_date or timezone.localdate(),
            source="\n".join(parsed.sources),
            checksum=parsed.checksum,
            diff=diff,
        )
        Territory.objects.bulk_create(
            Territory(version=version, **row.as_dict()) for row in parsed.rows
        )
        reset = reset_screening_outcomes(list_version=version) if previous is not None else 0
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
        if previous is not None:
            version_id = version.pk
            transaction.on_commit(lambda: _start_rescreen(version_id))
    return LoadResult(version=version, created=True, diff=diff)


def _start_rescreen(version_id: int) -> None:
    from compliance.tasks import rescreen_all

    try:
        rescreen_all.delay(version_id)
    except Exception:  # broker down: the periodic sweep starts the re-screening later
        logger.exception(
            "re-screening for list version id %s not enqueued; the sweep will start it", version_id
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
    return lines or ["no change"]


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)
