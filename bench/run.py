"""``make bench``: the portal's performance on a generated data set (DESIGN §8).

Every latency is also given as a ratio to a bare DRF endpoint measured in the same run, so
results compare across machines; nothing here asserts a time. Scale with BENCH_SCALE
(1 = 100,000 applications over 60 countries and 1,000,000 audit events; 0.01 for a smoke
run). Results go to bench/results/<timestamp>.json and bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench import data  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))


def ensure_database() -> None:
    """Create portal_bench as the owner and migrate it (kept between runs)."""
    import psycopg
    from psycopg import sql

    owner = settings.DATABASE_OWNER
    params = {
        "user": owner["USER"],
        "password": owner.get("PASSWORD") or None,
        "host": owner["HOST"],
        "port": owner["PORT"],
        "dbname": owner["NAME"],
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [settings.BENCH_DATABASE]
        ).fetchone()
        if not exists:
            conn.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings.BENCH_DATABASE))
            )
    settings.DATABASE_OWNER["NAME"] = settings.BENCH_DATABASE
    call_command("migrate", verbosity=0)


def analyze() -> None:
    """Refresh planner statistics after the bulk load, as autovacuum would in production."""
    import psycopg

    owner = settings.DATABASE_OWNER
    params = {
        "user": owner["USER"],
        "password": owner.get("PASSWORD") or None,
        "host": owner["HOST"],
        "port": owner["PORT"],
        "dbname": settings.BENCH_DATABASE,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        for (table,) in tables:
            conn.execute(f'ANALYZE "{table}"')


def timed(
    client: Client, method: str, url: str, n: int, body: Any = None, each: Any = None
) -> dict[str, float]:
    """n sequential requests; p50/p95 in ms and requests per second."""
    samples = []
    for i in range(n):
        target = each(i) if each else (url, body)
        start = time.perf_counter()
        if method == "GET":
            response = client.get(target[0])
        else:
            response = client.post(target[0], target[1], content_type="application/json")
        samples.append(time.perf_counter() - start)
        if response.status_code >= 400:
            raise RuntimeError(
                f"{method} {target[0]} answered {response.status_code}: {response.content[:300]!r}"
            )
    samples.sort()
    return {
        "n": n,
        "p50_ms": round(statistics.median(samples) * 1000, 2),
        "p95_ms": round(samples[int(0.95 * (n - 1))] * 1000, 2),
        "rps": round(n / sum(samples), 1),
    }


def query_count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def bench_requests(users: dict[str, Any], ids: dict[str, Any]) -> dict[str, Any]:
    reviewer, auditor, official = Client(), Client(), Client()
    reviewer.force_login(users["reviewer"])
    auditor.force_login(users["auditor"])
    official.force_login(users["official"])
    n = REQUESTS
    results: dict[str, Any] = {"bare_drf": timed(reviewer, "GET", "/bench/bare/", n)}
    detail_ids = ids["technical_review"]
    cases = {
        "reviewer_queue_api": (
            reviewer,
            "/api/v1/applications/?state=technical_review&page_size=50",
        ),
        "reviewer_queue_page": (reviewer, "/review/?state=technical_review"),
        "application_detail_api": (reviewer, None),
        "application_detail_page": (reviewer, None),
        "audit_explorer_first_page": (auditor, "/audit/"),
        "audit_explorer_deep_page": (auditor, f"/audit/?before={ids['deep_event_id']}"),
        "audit_events_api_first_page": (auditor, "/api/v1/audit-events/?page_size=50"),
    }
    for name, (client, url) in cases.items():
        if name == "application_detail_api":
            results[name] = timed(
                client,
                "GET",
                "",
                n,
                each=lambda i: (f"/api/v1/applications/{detail_ids[i % len(detail_ids)]}/", None),
            )
        elif name == "application_detail_page":
            results[name] = timed(
                client,
                "GET",
                "",
                n,
                each=lambda i: (f"/review/{detail_ids[i % len(detail_ids)]}/", None),
            )
        else:
            results[name] = timed(client, "GET", url, n)
    movable = data.fresh_technical_review(n, users)
    results["transition_approve_technical"] = timed(
        reviewer,
        "POST",
        "",
        len(movable),
        each=lambda i: (
            f"/api/v1/applications/{movable[i][0]}/transitions/",
            json.dumps({"action": "approve_technical", "version": movable[i][1]}),
        ),
    )
    bare = results["bare_drf"]
    for name, result in results.items():
        if name != "bare_drf":
            result["p95_ratio_to_bare"] = round(result["p95_ms"] / bare["p95_ms"], 2)
            result["rps_ratio_to_bare"] = round(result["rps"] / bare["rps"], 3)
    results["query_counts"] = {
        "applications_api_page_size_10": query_count(
            reviewer, "/api/v1/applications/?page_size=10"
        ),
        "applications_api_page_size_100": query_count(
            reviewer, "/api/v1/applications/?page_size=100"
        ),
        "audit_api_page_size_10": query_count(auditor, "/api/v1/audit-events/?page_size=10"),
        "audit_api_page_size_100": query_count(auditor, "/api/v1/audit-events/?page_size=100"),
        "review_queue_page": query_count(reviewer, "/review/"),
        "audit_explorer_page": query_count(auditor, "/audit/"),
    }
    return results


def bench_screening(users: dict[str, Any]) -> dict[str, Any]:
    """Submit applications and time a real Celery worker screening them all."""
    count = max(20, int(200 * min(SCALE * 10, 1)))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--queues",
            "portal",
            "--hostname",
            f"bench-{os.getpid()}@%h",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(4)  # worker start-up is not what we measure
        start = time.perf_counter()
        ids = data.submit_many(count, users)
        remaining = data.wait_screened(ids, timeout=600)
        elapsed = time.perf_counter() - start
    finally:
        worker.terminate()
        worker.wait(30)
    return {
        "applications": count,
        "seconds": round(elapsed, 2),
        "per_second": round(count / elapsed, 1),
        "left_unscreened": remaining,
        "worker_concurrency": 2,
    }


def bench_verify() -> dict[str, Any]:
    from portal.audit.verify import verify_chain

    reset_queries()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    start = time.perf_counter()
    result = verify_chain()
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "ok": result.ok,
        "checked": result.checked,
        "seconds": round(elapsed, 2),
        "events_per_second": round(result.checked / elapsed),
        "python_peak_mib": round(peak / 2**20, 2),
        "process_max_rss_growth_mib": round(
            (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024, 1
        ),
    }


def main() -> int:
    ensure_database()
    generation = data.generate(SCALE)
    analyze()
    users = data.bench_users()
    ids = data.sample_ids()
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "scale": SCALE,
        "data": generation,
        "requests": bench_requests(users, ids),
        "screening": bench_screening(users),
        "audit_verify": bench_verify(),
    }
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(results, indent=2)
    (RESULTS / f"{results['when'].replace(':', '')}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
