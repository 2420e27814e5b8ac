"""CSV and JSONL exports of the audit history, streamed in chain (id) order.

Rows come through a server-side cursor (``iterator``) and leave in ~64 KB pieces, so an
export of any size holds only one chunk of rows in memory.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from portal.audit.chain import HASHED_FIELDS, canonical_fields
from portal.audit.models import AuditEvent

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}
COLUMNS = ("id", *HASHED_FIELDS, "prev_hash", "hash", "key_id")
CHUNK_ROWS = 1000
_PIECE_BYTES = 64 * 1024
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _records(queryset: QuerySet[AuditEvent], chunk_size: int) -> Iterator[dict[str, Any]]:
    """Each event as its canonical payload (what the hash covers) plus id, hash and key_id."""
    columns = ("id", "prev_hash", "hash", "key_id", *HASHED_FIELDS)
    for row in queryset.order_by("id").values_list(*columns).iterator(chunk_size=chunk_size):
        event = dict(zip(columns, row, strict=True))
        record = canonical_fields(event, event["prev_hash"])
        record["id"] = event["id"]
        record["hash"] = event["hash"]
        record["key_id"] = event["key_id"]
        yield record


def _pieces(lines: Iterable[str]) -> Iterator[bytes]:
    buffer: list[str] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= _PIECE_BYTES:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()


def _jsonl_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    for record in records:
        yield json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow([_csv_cell(record[name]) for name in COLUMNS])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()  # the header alone, when nothing matched


def stream_export(
    queryset: QuerySet[AuditEvent], fmt: str, *, chunk_size: int = CHUNK_ROWS
) -> Iterator[bytes]:
    """The export as a byte iterator for ``StreamingHttpResponse``."""
    records = _records(queryset, chunk_size)
    lines = _jsonl_lines(records) if fmt == "jsonl" else _csv_lines(records)
    return _pieces(lines)
