"""The territory list's files: parse and validate the data file (``territories.csv``) and
the source records (``SOURCES.md``). Pure: no database; ``compliance.territories`` loads what
this module parses.

The file format is described in ``compliance/data/SOURCES.md``: ``#`` comment lines, then a
CSV with the columns in ``COLUMNS``. Every fact of a row names the id of a source record of
``SOURCES.md`` (title, public URL, date), read by ``parse_sources_text``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pycountry
from django.conf import settings

DEFAULT_FILE = Path(settings.BASE_DIR) / "compliance" / "data" / "territories.csv"
SOURCES_FILE = Path(settings.BASE_DIR) / "compliance" / "data" / "SOURCES.md"
COLUMNS = [
    "code",
    "name",
    "supported",
    "basis",
    "groups",
    "comprehensive_sanctions",
    "supported_source",
    "groups_source",
    "sanctions_source",
    "notes",
]
#: Which provider list decided ``supported``, and the value of ``supported`` it implies.
BASES = {"current_list": True, "older_list_only": True, "not_listed": False}
#: EAR Country Group names (15 CFR Part 740, Supp. No. 1); the file may use any of them.
KNOWN_GROUPS = frozenset(
    ["A:1", "A:2", "A:3", "A:4", "A:5", "A:6", "B", "D:1", "D:2", "D:3", "D:4", "D:5", "E:1", "E:2"]
)
#: Codes that are neither ISO 3166-1 nor ISO 3166-2 but are used in practice.
USER_ASSIGNED_CODES = frozenset({"XK"})  # Kosovo
BOOLEANS = {"true": True, "false": False}
#: The facts of a row that cite a source, and the column holding each one's record id.
FACT_COLUMNS = {
    "supported": "supported_source",
    "groups": "groups_source",
    "sanctions": "sanctions_source",
}

_EFFECTIVE = re.compile(r"^#\s*effective:\s*(\S+)\s*$", re.IGNORECASE)
_HEADER = re.compile(r"^#\s*(Retrieved:.*|Sources:.*)$")
_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9.-]{1,62}$")
_TOML_BLOCK = re.compile(r"^```toml\s*\n(.*?)^```", re.MULTILINE | re.DOTALL)


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
    basis: str
    groups: tuple[str, ...]
    comprehensive_sanctions: bool
    sources: tuple[tuple[str, str], ...]  # (fact, record id), in FACT_COLUMNS order
    notes: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["groups"] = list(self.groups)
        data["sources"] = dict(self.sources)
        return data


@dataclass(frozen=True)
class ParsedList:
    rows: list[TerritoryRow]
    header: list[str]  # the "Retrieved:" and "Sources:" comment lines
    records: dict[str, dict[str, Any]]  # the cited source records, by id
    effective_date: dt.date | None
    checksum: str


def is_known_code(code: str) -> bool:
    """ISO 3166-1 alpha-2, an ISO 3166-2 subdivision (Crimea …) or a user-assigned code."""
    if code != code.upper():
        return False
    if code in USER_ASSIGNED_CODES:
        return True
    if len(code) == 2:
        return pycountry.countries.get(alpha_2=code) is not None
    return "-" in code and pycountry.subdivisions.get(code=code) is not None


def rows_checksum(
    rows: list[TerritoryRow], records: dict[str, dict[str, Any]] | None = None
) -> str:
    """SHA-256 over the rows and the source records they cite: comments alone make no version."""
    canonical = json.dumps(
        {
            "rows": [r.as_dict() for r in sorted(rows, key=lambda r: r.code)],
            "sources": records or {},
        },
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _parse_bool(value: str, column: str, line: int, errors: list[str]) -> bool:
    parsed = BOOLEANS.get(value.strip())
    if parsed is None:
        errors.append(f"line {line}: {column} must be 'true' or 'false', not {value!r}")
        return False
    return parsed


def _public_url(value: Any) -> bool:
    """An ``http(s)`` address with a host: never a file, a path or an internal document."""
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    parsed = urlsplit(value)
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)


def parse_sources_text(text: str) -> dict[str, dict[str, Any]]:
    """The source records of ``SOURCES.md``: its ```` ```toml ```` blocks' ``[sources.<id>]`` tables.

    Returns ``{id: {title, url, date (ISO string or None), date_meaning, date_unknown, via,
    establishes}}``. Raises ``TerritoryFileError`` listing every problem: a malformed block, an
    id that is not lower-case letters, digits, dots and dashes, no title, a ``url`` or ``via``
    that is not a public ``http(s)`` address, or neither a ``date`` (with its ``date_meaning``)
    nor a ``date_unknown`` saying why. TOML is parsed by the standard library (``tomllib``).
    """
    errors: list[str] = []
    tables: dict[str, Any] = {}
    for number, block in enumerate(_TOML_BLOCK.findall(text), start=1):
        try:
            parsed = tomllib.loads(block)
        except tomllib.TOMLDecodeError as exc:
            errors.append(f"sources: TOML block {number}: {exc}")
            continue
        for key, value in parsed.get("sources", {}).items():
            if key in tables:
                errors.append(f"sources: record {key!r} is defined twice")
            tables[key] = value
    records: dict[str, dict[str, Any]] = {}
    for key, value in sorted(tables.items()):
        where = f"sources: record {key!r}"
        if not _SOURCE_ID.match(key):
            errors.append(f"{where}: an id is lower-case letters, digits, '.' and '-'")
        if not isinstance(value, dict):
            errors.append(f"{where}: not a table")
            continue
        title = value.get("title")
        if not isinstance(title, str) or not title.strip():
            errors.append(f"{where}: no title")
        if not _public_url(value.get("url")):
            errors.append(
                f"{where}: url must be a public http(s) address, not {value.get('url')!r}"
            )
        if "via" in value and not _public_url(value["via"]):
            errors.append(f"{where}: via must be a public http(s) address, not {value['via']!r}")
        date = value.get("date")
        if date is not None and type(date) is not dt.date:
            errors.append(f"{where}: date must be a date (YYYY-MM-DD), not {date!r}")
        elif date is not None and not str(value.get("date_meaning", "")).strip():
            errors.append(f"{where}: a date needs its date_meaning (issued, signed, retrieved …)")
        elif date is None and not str(value.get("date_unknown", "")).strip():
            errors.append(f"{where}: no date, and no date_unknown saying why it is not known")
        records[key] = {
            "title": str(title or "").strip(),
            "url": value.get("url", ""),
            "date": date.isoformat() if type(date) is dt.date else None,
            "date_meaning": str(value.get("date_meaning", "")).strip(),
            "date_unknown": str(value.get("date_unknown", "")).strip(),
            "via": value.get("via", ""),
            "establishes": str(value.get("establishes", "")).strip(),
        }
    if not records and not errors:
        errors.append("sources: no [sources.<id>] record found in a ```toml block")
    if errors:
        raise TerritoryFileError(errors)
    return records


def parse_sources_file(path: Path | str = SOURCES_FILE) -> dict[str, dict[str, Any]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TerritoryFileError(
            [f"cannot read the sources file {Path(path).name}: {exc}"]
        ) from exc
    return parse_sources_text(text)


def _split_comments(
    text: str, errors: list[str]
) -> tuple[list[str], dt.date | None, list[tuple[int, str]]]:
    """The file's ``#`` header lines, its effective date and its numbered data lines (blank
    lines dropped); an unreadable effective date is appended to ``errors``."""
    header_lines: list[str] = []
    effective: dt.date | None = None
    data_lines: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):
            if line.strip():
                data_lines.append((number, line))
            continue
        if match := _EFFECTIVE.match(line):
            try:
                effective = dt.date.fromisoformat(match.group(1))
            except ValueError:
                errors.append(f"line {number}: effective date {match.group(1)!r} is not YYYY-MM-DD")
        elif match := _HEADER.match(line):
            header_lines.append(match.group(1).strip())
    return header_lines, effective, data_lines


def _territory_row(
    values: dict[str, str],
    number: int,
    *,
    records: dict[str, dict[str, Any]],
    seen: dict[str, int],
    cited: set[str],
    errors: list[str],
) -> TerritoryRow:
    """One data line's row; its problems are appended to ``errors``, its code to ``seen``
    (code -> first line) and the source ids it cites to ``cited``."""
    code, name = values["code"], values["name"]
    if not is_known_code(code):
        errors.append(f"line {number}: unknown territory code {code!r} (not ISO 3166-1/3166-2)")
    if code in seen:
        errors.append(f"line {number}: duplicate code {code} (first on line {seen[code]})")
    seen.setdefault(code, number)
    if not name:
        errors.append(f"line {number}: {code} has no name")
    group_list = _row_groups(values["groups"], code, number, errors)
    supported = _parse_bool(values["supported"], "supported", number, errors)
    sanctions = _parse_bool(
        values["comprehensive_sanctions"], "comprehensive_sanctions", number, errors
    )
    basis = values["basis"]
    if basis not in BASES:
        errors.append(
            f"line {number}: basis of {code} must be one of {', '.join(BASES)}, not {basis!r}"
        )
    elif BASES[basis] != supported:
        errors.append(
            f"line {number}: {code} has basis {basis} but supported={str(supported).lower()}"
        )
    sources = _row_sources(
        values, code, number, sanctions=sanctions, records=records, cited=cited, errors=errors
    )
    return TerritoryRow(
        code=code,
        name=name,
        supported=supported,
        basis=basis,
        groups=group_list,
        comprehensive_sanctions=sanctions,
        sources=sources,
        notes=values["notes"],
    )


def _row_groups(text: str, code: str, number: int, errors: list[str]) -> tuple[str, ...]:
    """The row's EAR country groups; unknown or repeated groups are appended to ``errors``."""
    group_list = tuple(text.split())
    bad = [g for g in group_list if g not in KNOWN_GROUPS]
    if bad:
        errors.append(
            f"line {number}: unknown EAR country group(s) {', '.join(bad)} for {code} "
            f"(known: {' '.join(sorted(KNOWN_GROUPS))})"
        )
    if len(set(group_list)) != len(group_list):
        errors.append(f"line {number}: a group is repeated for {code}")
    return group_list


def _row_sources(
    values: dict[str, str],
    code: str,
    number: int,
    *,
    sanctions: bool,
    records: dict[str, dict[str, Any]],
    cited: set[str],
    errors: list[str],
) -> tuple[tuple[str, str], ...]:
    """(fact, source id) per fact column; a missing required id or one no record defines is
    appended to ``errors``, a known one to ``cited``."""
    sources: list[tuple[str, str]] = []
    for fact, column in FACT_COLUMNS.items():
        source_id = values[column]
        required = fact != "sanctions" or sanctions
        if not source_id:
            if required:
                errors.append(f"line {number}: {code} has no {column}")
        elif source_id not in records:
            errors.append(
                f"line {number}: {column} of {code} is {source_id!r}, which no record of "
                "SOURCES.md defines"
            )
        else:
            cited.add(source_id)
        sources.append((fact, source_id))
    return tuple(sources)


def parse_territory_text(
    text: str,
    *,
    records: dict[str, dict[str, Any]] | None = None,
    also_cited: frozenset[str] = frozenset(),
) -> ParsedList:
    """Parse and validate the whole file; raise ``TerritoryFileError`` listing every problem.

    ``records`` are the source records (``parse_sources_file``; default: the shipped
    ``SOURCES.md``). Every row's source ids must name one of them; the version keeps the
    records its rows cite and ``also_cited`` (the ids the screening policy names itself),
    which must exist too.
    """
    records = parse_sources_file() if records is None else records
    errors: list[str] = [
        f"sources: the screening policy cites {key!r}, which no record of SOURCES.md defines"
        for key in sorted(also_cited - set(records))
    ]
    header_lines, effective, data_lines = _split_comments(text, errors)
    if not data_lines:
        raise TerritoryFileError([*errors, "the file has no header row and no territories"])

    # One record per line: a quoted field spanning lines then shows up as a column-count error.
    lines = [next(csv.reader([line])) for _, line in data_lines]
    header = [h.strip() for h in lines[0]]
    if header != COLUMNS:
        raise TerritoryFileError(
            [
                *errors,
                f"line {data_lines[0][0]}: header must be {','.join(COLUMNS)}, not {','.join(header)}",
            ]
        )
    rows: list[TerritoryRow] = []
    seen: dict[str, int] = {}
    cited: set[str] = set()
    for (number, _), record in zip(data_lines[1:], lines[1:], strict=True):
        if len(record) != len(COLUMNS):
            errors.append(f"line {number}: expected {len(COLUMNS)} columns, found {len(record)}")
            continue
        values = dict(zip(COLUMNS, (v.strip() for v in record), strict=True))
        rows.append(
            _territory_row(values, number, records=records, seen=seen, cited=cited, errors=errors)
        )
    if not rows and not errors:
        errors.append("the file lists no territories")
    if errors:
        raise TerritoryFileError(errors)
    kept = {key: records[key] for key in sorted(cited | also_cited)}
    return ParsedList(
        rows=rows,
        header=header_lines,
        records=kept,
        effective_date=effective,
        checksum=rows_checksum(rows, kept),
    )


def parse_territory_file(
    path: Path | str,
    *,
    sources_path: Path | str = SOURCES_FILE,
    also_cited: frozenset[str] = frozenset(),
) -> ParsedList:
    records = parse_sources_file(sources_path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TerritoryFileError([f"cannot read {path}: {exc}"]) from exc
    return parse_territory_text(text, records=records, also_cited=also_cited)
