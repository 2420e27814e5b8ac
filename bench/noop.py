"""``python -m bench.noop``: only the request-stack pair of ``make bench``, in minutes.

The portal's no-op endpoint (``/api/bench/noop/``, the request stack of an API token
request) and the minimal stack's, over real HTTP exactly as ``bench.run`` measures them (gunicorn, 2 sync workers,
wrk, ``BENCH_SECONDS`` × ``BENCH_ROUNDS``, interleaved), plus the in-process share of each
middleware and the queries one token request makes. The no-op reads no application, so the
bench database only needs its users: it is created and migrated when missing, and grown to
``BENCH_NOOP_SIZE`` = 100 applications only when it holds fewer. Prints the figures as JSON; writes
nothing under ``bench/results/``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from bench import data, load, run  # noqa: E402


def main() -> int:
    load.ensure_wrk()
    run.ensure_database()
    data.generate(int(os.environ.get("BENCH_NOOP_SIZE", "100")))  # grows, never shrinks
    users = data.bench_users()
    auth = run.credentials(users)
    cases = {"noop": (["/api/bench/noop/"], auth["reviewer_token"], True)}
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "conditions": run.conditions(),
    }
    with (
        load.gunicorn(
            "portal", settings="bench.settings", port=run.PORT, workers=run.WORKERS
        ) as portal,
        load.gunicorn(
            "minimal", settings="bench.minimal_settings", port=run.PORT + 10, workers=run.WORKERS
        ) as minimal,
    ):
        run.check_same_bytes(portal, minimal, cases)
        results["http"] = run.http_suite(
            portal, minimal, cases, rounds=run.ROUNDS, seconds=run.SECONDS
        )
    results["stack"] = run.stack_costs(auth["reviewer_token"])
    results["conditions"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
