"""``python -m bench.report [results.json]``: the tables of bench/README.md from a run."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

LATEST = Path(__file__).parent / "results" / "latest.json"


def _cell(value: Any) -> str:
    return "–" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def tables(results: dict[str, Any]) -> str:
    c = results["conditions"]
    d = results["data"]
    lines = [
        f"Run {results['when']}: {d['applications']:,} applications, {d['countries']} countries, "
        f"{d['audit_events']:,} audit events, {d['commitments']:,} commitments. "
        f"{c['server']}; {c['load']}, {c['seconds_per_measure']:g} s × {c['rounds']} rounds; "
        f"{c['cpus']} CPUs, load average {c['load_average_at_start'][0]} at the start"
        + (
            f", {c['load_average_at_end'][0]} at the end; the whole run took "
            f"{c['run_seconds'] / 60:.0f} min."
            if "run_seconds" in c
            else "."
        ),
        "",
        "| endpoint | req/s | p50 ms | p95 ms | p99 ms | minimal stack req/s | ratio_same_work "
        "| ratio_stack | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, e in results["http"].items():
        base = e.get("minimal_stack", {})
        lines.append(
            f"| {name} | {_cell(e['rps'])} | {_cell(e['p50_ms'])} | {_cell(e['p95_ms'])} "
            f"| {_cell(e['p99_ms'])} | {_cell(base.get('rps'))} "
            f"| {_cell(e.get('ratio_same_work'))} | {_cell(e['ratio_stack'])} "
            f"| {_cell(e.get('load_average'))} |"
        )
    deep = results["http"].get("audit_explorer_deep_page", {})
    v, w, s = results["audit_verify"], results["writers"], results["screening"]
    ex = results["exports"]
    lines += [
        "",
        "| figure | value | load avg |",
        "|---|---|---:|",
        f"| audit explorer deep/first page p95 | {_cell(deep.get('p95_ratio_to_first_page'))} "
        f"| {_cell(deep.get('load_average'))} |",
        f"| audit_verify.seconds ({v['checked']:,} events) | {v['seconds']} "
        f"({v['events_per_second']:,} events/s) | {_cell(v.get('load_average'))} |",
        f"| audit_verify.peak_mib (RSS growth; process peak) | {v['peak_mib']} "
        f"({v['process_rss_peak_mib']}) | |",
        f"| screening.per_second ({s['applications']} applications, 1 worker × 2) "
        f"| {s['per_second']} ({s['wall_seconds_including_worker_start']} s wall with start-up) "
        f"| {_cell(s.get('load_average'))} |",
        _writers_row("writers.transitions_per_second", w),
    ]
    if "without_audit_lock" in w:
        lines.append(
            _writers_row("the same without the audit lock (upper bound)", w["without_audit_lock"])
        )
    for name, e in ex.items():
        lines.append(
            f"| exports.{name}: {e['rows']:,} rows, {e['mib']} MiB | {e['seconds']} s, "
            f"worker RSS growth {e['worker_rss_growth_mib']} MiB (peak {e['worker_rss_peak_mib']}) "
            f"| {_cell(e.get('load_average'))} |"
        )
    return "\n".join(lines)


def _writers_row(title: str, w: dict[str, Any]) -> str:
    return (
        f"| {title} ({w['clients']} clients, {w['countries']} countries, "
        f"{w['server_workers']} workers) | {w['transitions_per_second']} (p50 {w['p50_ms']} ms, "
        f"p99 {w['p99_ms']} ms; audit-lock waiters mean {w['audit_lock_waiters_mean']}, "
        f"max {w['audit_lock_waiters_max']}; chain verifies: {w.get('audit_verify_ok', '–')}) "
        f"| {_cell(w.get('load_average'))} |"
    )


def growth_table(results: dict[str, Any]) -> str:
    """req/s (p95 ms) of each endpoint at each size: flat means cost does not grow with size."""
    sizes = sorted(results["growth"], key=int)
    names = list(results["growth"][sizes[-1]]["http"])
    head = [
        f"{results['growth'][s]['data']['applications']:,} apps "
        f"(load {_cell(results['growth'][s].get('load_average_at_start'))})"
        for s in sizes
    ]
    lines = [
        "| req/s (p95 ms) | " + " | ".join(head) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for name in names:
        cells = [results["growth"][s]["http"].get(name) for s in sizes]
        lines.append(
            f"| {name} | "
            + " | ".join("–" if c is None else f"{c['rps']:g} ({c['p95_ms']:g})" for c in cells)
            + " |"
        )
    lines.append(
        "| audit verification, s (events) | "
        + " | ".join(
            f"{results['growth'][s]['audit_verify']['seconds']:g} "
            f"({results['growth'][s]['audit_verify']['checked']:,})"
            for s in sizes
        )
        + " |"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else LATEST
    loaded = json.loads(path.read_text())
    print(tables(loaded))
    print()
    print(growth_table(loaded))
