"""The growth chart of bench/README.md: each endpoint's req/s and p95 against the data size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: write a file
import matplotlib.pyplot as plt


def growth(results: dict[str, Any], target: Path) -> None:
    sizes = sorted(results["growth"], key=int)
    x = [int(s) for s in sizes]
    names = list(results["growth"][sizes[-1]]["http"])
    fig, (rps_ax, p95_ax, verify_ax) = plt.subplots(1, 3, figsize=(16, 5.5))
    for name in names:
        rps = [results["growth"][s]["http"][name]["rps"] for s in sizes]
        p95 = [results["growth"][s]["http"][name]["p95_ms"] for s in sizes]
        rps_ax.plot(x, rps, marker="o", label=name)
        p95_ax.plot(x, p95, marker="o", label=name)
    verify_ax.plot(
        [results["growth"][s]["data"]["audit_events"] for s in sizes],
        [results["growth"][s]["audit_verify"]["seconds"] for s in sizes],
        marker="o",
        color="black",
    )
    for ax, title in (
        (rps_ax, "requests per second (higher is better)"),
        (p95_ax, "p95 latency, ms (lower is better)"),
    ):
        ax.set_xscale("log")
        ax.set_xlabel("applications in the database")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_ylim(bottom=0)
    verify_ax.set_xscale("log")
    verify_ax.set_yscale("log")
    verify_ax.set_xlabel("audit events")
    verify_ax.set_title("audit verification, seconds")
    verify_ax.grid(True, which="both", alpha=0.3)
    rps_ax.legend(fontsize=8)
    conditions = results["conditions"]
    fig.suptitle(
        f"Growth — {conditions['server']}, {conditions['load']}, "
        f"{conditions['growth_seconds_per_measure']} s per point, {conditions['cpus']} CPUs "
        f"(load average at start {conditions['load_average_at_start'][0]})",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(target, dpi=90)
    plt.close(fig)
