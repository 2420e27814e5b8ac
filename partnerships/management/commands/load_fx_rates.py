"""``manage.py load_fx_rates [FILE]``: load the dated USD exchange-rate table.

The file (default ``partnerships/data/fx_rates.csv``) starts with ``#`` comment lines that
name its source; then a ``date,currency,usd_per_unit`` table. Every row is validated before
anything is written; a bad file changes nothing. Loading is idempotent: rows already present
with the same rate are left alone, changed rates are updated, new ones created; rows absent
from the file are kept (commitments store their own rate, so nothing stored changes either
way). A load that changes anything is audited as ``fx_rates.loaded`` with its counts.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from partnerships.models import FxRate
from partnerships.validators import currency_code
from portal.audit.record import record_event
from portal.audit.verbs import Verb
from portal.context import actor_context

DEFAULT_FILE = Path(settings.BASE_DIR) / "partnerships" / "data" / "fx_rates.csv"
COLUMNS = ["date", "currency", "usd_per_unit"]
# FxRate.usd_per_unit is numeric(24, 12).
MAX_PLACES, MAX_INTEGER_DIGITS = 12, 12
PEG = re.compile(r"^#\s+([A-Z]{3}):\s*(.+?)\s*\((.+)\)\s*$")
PUBLISHER = re.compile(r"publisher:\s*([^,]+)", re.IGNORECASE)


def parse_header(comments: list[str], filename: str) -> tuple[str, dict[str, str]]:
    """(default source, per-currency source for pegged currencies) from the file's header."""
    if not any(line.lstrip("# ").upper().startswith("SOURCE") for line in comments):
        raise CommandError(f"{filename}: the header must name the source (a '# SOURCE' line).")
    publisher = next((m.group(1).strip() for line in comments if (m := PUBLISHER.search(line))), "")
    default = f"{publisher or 'see header'} reference rates, derived to USD ({filename})"
    pegs = {}
    in_pegs = False
    for line in comments:
        if line.lstrip("# ").upper().startswith("PEGGED"):
            in_pegs = True
            continue
        if in_pegs and (m := PEG.match(line)):
            pegs[m.group(1)] = f"{m.group(3)}: {m.group(2)} ({filename})"
    return default[:200], {k: v[:200] for k, v in pegs.items()}


def parse_rows(lines: list[str], filename: str) -> list[tuple[dt.date, str, Decimal]]:
    """Validated (date, currency, usd_per_unit) rows; every problem is reported at once."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header != COLUMNS:
        raise CommandError(f"{filename}: expected the columns {','.join(COLUMNS)}, found {header}.")
    errors: list[str] = []
    rows: list[tuple[dt.date, str, Decimal]] = []
    seen: set[tuple[str, dt.date]] = set()
    for number, record in enumerate(reader, start=2):
        if not record or not "".join(record).strip():
            continue
        where = f"data line {number}"
        if len(record) != len(COLUMNS):
            errors.append(f"{where}: expected {len(COLUMNS)} fields, found {len(record)}.")
            continue
        raw_date, raw_currency, raw_rate = (v.strip() for v in record)
        try:
            date = dt.date.fromisoformat(raw_date)
        except ValueError:
            errors.append(f"{where}: {raw_date!r} is not an ISO date.")
            continue
        try:
            currency = currency_code(raw_currency)
        except ValidationError:
            errors.append(f"{where}: {raw_currency!r} is not an ISO 4217 currency code.")
            continue
        try:
            rate = Decimal(raw_rate)
        except InvalidOperation:
            errors.append(f"{where}: {raw_rate!r} is not a decimal number.")
            continue
        exponent = rate.as_tuple().exponent
        if not rate.is_finite() or rate <= 0:
            errors.append(f"{where}: the rate must be a positive number.")
        elif isinstance(exponent, int) and -exponent > MAX_PLACES:
            errors.append(f"{where}: at most {MAX_PLACES} decimal places.")
        elif rate >= Decimal(10) ** MAX_INTEGER_DIGITS:
            errors.append(f"{where}: the rate is too large.")
        elif currency == "USD" and rate != 1:
            errors.append(f"{where}: the USD rate must be 1.")
        elif (currency, date) in seen:
            errors.append(f"{where}: a second {currency} rate for {date}.")
        else:
            seen.add((currency, date))
            rows.append((date, currency, rate))
    if errors:
        raise CommandError(f"{filename}: nothing loaded.\n" + "\n".join(errors))
    if not rows:
        raise CommandError(f"{filename}: no rates.")
    return rows


class Command(BaseCommand):
    help = "Load the dated USD exchange-rate table (validated, idempotent, audited)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "file",
            nargs="?",
            default=str(DEFAULT_FILE),
            help="CSV file (default: the shipped table)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path.name}: not UTF-8 text.") from exc
        lines = text.splitlines()
        comments = [line for line in lines if line.startswith("#")]
        table = [line for line in lines if not line.startswith("#")]
        default_source, pegs = parse_header(comments, path.name)
        rows = parse_rows(table, path.name)

        with actor_context(system_label="command:load_fx_rates"), transaction.atomic():
            existing = {
                (r.currency, r.date): r
                for r in FxRate.objects.select_for_update().filter(
                    currency__in={c for _, c, _ in rows}
                )
            }
            created: list[FxRate] = []
            updated: list[FxRate] = []
            for date, currency, rate in rows:
                source = pegs.get(currency, default_source)
                current = existing.get((currency, date))
                if current is None:
                    created.append(
                        FxRate(date=date, currency=currency, usd_per_unit=rate, source=source)
                    )
                elif current.usd_per_unit != rate or current.source != source:
                    current.usd_per_unit, current.source = rate, source
                    updated.append(current)
            FxRate.objects.bulk_create(created)
            FxRate.objects.bulk_update(updated, ["usd_per_unit", "source"])
            counts = {
                "created": len(created),
                "updated": len(updated),
                "unchanged": len(rows) - len(created) - len(updated),
            }
            if created or updated:
                record_event(
                    verb=Verb.FX_RATES_LOADED,
                    object_type="partnerships.fxrate",
                    object_label=path.name,
                    changes={
                        **counts,
                        "rows": len(rows),
                        "file": path.name,
                        "sha256": hashlib.sha256(raw).hexdigest(),
                        "currencies": sorted({c for _, c, _ in rows}),
                        "first_date": min(d for d, _, _ in rows).isoformat(),
                        "last_date": max(d for d, _, _ in rows).isoformat(),
                    },
                )
        self.stdout.write(
            f"Exchange rates from {path.name}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged."
        )
