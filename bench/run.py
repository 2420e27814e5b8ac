"""``make bench``: the portal over real HTTP against baselines measured in the same run.

Two gunicorn servers (2 sync workers each, ``DEBUG`` off) on the bench database, driven one
at a time by wrk over loopback at fixed concurrency and duration:

- the portal server (``bench.settings``: the production settings and URLconf, plus one no-op
  endpoint behind the portal's whole request stack);
- the minimal stack (``bench.minimal_settings``): no middleware, token authentication only,
  a no-op view, and at the portal's own paths plain DRF views returning the same rows as the
  same JSON bytes (checked before measuring).

Ratios: ``ratio_same_work`` = portal req/s ÷ the minimal stack's req/s for the same request;
``ratio_stack`` = portal req/s ÷ the portal's own no-op req/s. Then, in the same run:
exports in constant memory, concurrent writers, screening by a real Celery worker and audit
verification. The data set grows through BENCH_SIZES (applications; ten audit events and a
tenth of a commitment each), and every size is measured, for the growth chart. Nothing here
asserts a time: the tests assert query counts instead. See bench/README.md.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

import psutil  # noqa: E402
import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max, Min  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.client import ClientHandler  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from psycopg import sql  # noqa: E402

from bench import data, load  # noqa: E402
from compliance.models import ScreeningResult  # noqa: E402
from partnerships.models import CountryApplication, Decision, State  # noqa: E402
from portal.audit.record import AUDIT_CHAIN_LOCK  # noqa: E402
from portal.audit.verify import verify_chain  # noqa: E402
from portal.handlers import TokenApiRouting  # noqa: E402
from portal.tenancy import rls  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SIZES = [int(x) for x in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",")]
SECONDS = float(os.environ.get("BENCH_SECONDS", "12"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
GROWTH_SECONDS = float(os.environ.get("BENCH_GROWTH_SECONDS", "5"))
VERIFY_ROUNDS = int(os.environ.get("BENCH_VERIFY_ROUNDS", "3"))  # at the last size; median
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
PORT = int(os.environ.get("BENCH_PORT", "8106"))
WRITERS = int(os.environ.get("BENCH_WRITERS", "16"))
WRITER_TRANSITIONS = int(os.environ.get("BENCH_WRITER_TRANSITIONS", "25"))
WRITER_WORKERS = int(os.environ.get("BENCH_WRITER_WORKERS", "8"))
SCREENING = int(os.environ.get("BENCH_SCREENING", "400"))
# A size that has not finished in this many seconds (generation included) stops the run.
SIZE_TIMEOUT = float(os.environ.get("BENCH_SIZE_TIMEOUT", "2400"))


def owner_connect(dbname: str) -> Any:

    owner = settings.DATABASE_OWNER
    params = {
        "user": owner["USER"],
        "password": owner.get("PASSWORD") or None,
        "host": owner["HOST"],
        "port": owner["PORT"],
        "dbname": dbname,
    }
    return psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)


def ensure_database() -> None:
    """Create the bench database as the owner and migrate it (kept between runs, dropped
    first with BENCH_FRESH=1)."""

    with owner_connect(settings.DATABASE_OWNER["NAME"]) as conn:
        if os.environ.get("BENCH_FRESH") == "1":  # growth from the smallest size up
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(settings.BENCH_DATABASE)
                )
            )
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
    with owner_connect(settings.BENCH_DATABASE) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        for (table,) in tables:
            conn.execute(f'ANALYZE "{table}"')


# --- HTTP ------------------------------------------------------------------------------------


def endpoints(auth: dict[str, dict[str, str]], ids: dict[str, Any]) -> dict[str, Any]:
    """name → (paths, headers, whether the minimal stack serves the same work)."""
    details = ids["technical_review"][:200]
    return {
        "noop": (["/api/bench/noop/"], auth["reviewer_token"], True),
        "reviewer_queue": (
            ["/api/v1/applications/?state=technical_review&page_size=50"],
            auth["reviewer_token"],
            True,
        ),
        "application_detail": (
            [f"/api/v1/applications/{pk}/" for pk in details],
            auth["reviewer_token"],
            True,
        ),
        # Every read of the audit API is itself audited (#12): a write the plain view does
        # not do, so there is no same-work baseline for it, only the stack ratio.
        "audit_events_api": (["/api/v1/audit-events/?page_size=50"], auth["auditor_token"], False),
        "reviewer_queue_page": (
            ["/review/?state=technical_review"],
            auth["reviewer_session"],
            False,
        ),
        "application_detail_page": (
            [f"/review/{pk}/" for pk in details],
            auth["reviewer_session"],
            False,
        ),
        "audit_explorer_first_page": (["/audit/"], auth["auditor_session"], False),
        "audit_explorer_deep_page": (
            [f"/audit/?before={ids['deep_event_id']}"],
            auth["auditor_session"],
            False,
        ),
    }


def check_same_bytes(
    portal: load.Server, minimal: load.Server, cases: dict[str, Any]
) -> dict[str, bool]:
    """Every path answers 200 on the portal; the same-work ones answer the same bytes on the
    minimal stack. A baseline that did different work would make its ratio meaningless."""
    checked = {}
    for name, (paths, headers, same_work) in cases.items():
        for path in paths[:5]:
            status, body = load.get(portal, path, headers)
            if status != 200:
                raise RuntimeError(f"portal {path} answered {status}: {body[:300]!r}")
            if same_work:
                status, plain = load.get(minimal, path, headers)
                if status != 200 or plain != body:
                    raise RuntimeError(
                        f"{name}: the minimal stack's {path} answered {status} with other bytes:"
                        f"\n{body[:400]!r}\n{plain[:400]!r}"
                    )
        checked[name] = same_work
    return checked


def _mean(values: list[float]) -> float:
    return round(statistics.fmean(values), 2)


def http_suite(
    portal: load.Server,
    minimal: load.Server,
    cases: dict[str, Any],
    *,
    rounds: int,
    seconds: float,
) -> dict[str, Any]:
    """Each endpoint on the portal then its baseline, interleaved, ``rounds`` times."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for _ in range(rounds):
        for name, (paths, headers, same_work) in cases.items():
            kwargs = {"connections": CONNECTIONS, "threads": THREADS, "seconds": seconds}
            runs.setdefault(name, []).append(load.wrk(portal, paths, headers, **kwargs))
            if same_work:
                runs.setdefault(f"{name}@minimal", []).append(
                    load.wrk(minimal, paths, headers, **kwargs)
                )
    summary: dict[str, Any] = {}
    for name, results in runs.items():
        summary[name] = {
            "rps": _mean([r["rps"] for r in results]),
            "p50_ms": _mean([r["p50_ms"] for r in results]),
            "p95_ms": _mean([r["p95_ms"] for r in results]),
            "p99_ms": _mean([r["p99_ms"] for r in results]),
            "bytes_per_response": results[0]["bytes_per_response"],
            "load_average": _mean([r["load_average"] for r in results]),
            "rounds": results,
        }
    out: dict[str, Any] = {}
    noop = summary["noop"]["rps"]
    for name in cases:
        entry = summary[name]
        baseline = summary.get(f"{name}@minimal")
        if baseline is not None:
            entry["ratio_same_work"] = round(entry["rps"] / baseline["rps"], 3)
            entry["minimal_stack"] = baseline
        entry["ratio_stack"] = round(entry["rps"] / noop, 3)
        out[name] = entry
    if "audit_explorer_deep_page" in out:  # keyset pages: the goal is ≤ 1.2
        out["audit_explorer_deep_page"]["p95_ratio_to_first_page"] = round(
            out["audit_explorer_deep_page"]["p95_ms"] / out["audit_explorer_first_page"]["p95_ms"],
            2,
        )
    return out


def query_counts(users: dict[str, Any]) -> dict[str, int]:
    """Queries per request at page sizes 10 and 100 (equal: constant in the page size)."""
    reviewer, auditor = Client(), Client()
    reviewer.force_login(users["reviewer"])
    auditor.force_login(users["auditor"])

    def count(client: Client, url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        return len(ctx.captured_queries)

    return {
        "applications_api_page_size_10": count(reviewer, "/api/v1/applications/?page_size=10"),
        "applications_api_page_size_100": count(reviewer, "/api/v1/applications/?page_size=100"),
        "audit_api_page_size_10": count(auditor, "/api/v1/audit-events/?page_size=10"),
        "audit_api_page_size_100": count(auditor, "/api/v1/audit-events/?page_size=100"),
        "review_queue_page": count(reviewer, "/review/"),
        "audit_explorer_page": count(auditor, "/audit/"),
    }


class _RoutingClientHandler(TokenApiRouting, ClientHandler):
    """The test client's handler with portal.wsgi's routing (a token request's short chain)."""


def stack_costs(token: dict[str, str]) -> dict[str, Any]:
    """What each middleware adds to an API token request: the portal's no-op endpoint in
    process (Django's test client with portal.wsgi's routing, so the token request takes the
    short chain of portal.handlers), with the whole stack and with each middleware left out
    in turn (a middleware the short chain skips adds about nothing); and the queries one such
    request makes."""

    n = int(os.environ.get("BENCH_STACK_REQUESTS", "400"))

    def client() -> Client:
        # A new handler per configuration: a handler loads its middleware once.
        made = Client(HTTP_AUTHORIZATION=token["Authorization"])
        made.handler = _RoutingClientHandler(enforce_csrf_checks=False)
        return made

    def per_request_ms(middleware: list[str]) -> float:
        skipped = [m for m in settings.PORTAL_BROWSER_ONLY_MIDDLEWARE if m in middleware]
        with override_settings(MIDDLEWARE=middleware, PORTAL_BROWSER_ONLY_MIDDLEWARE=skipped):
            measured = client()
            for _ in range(20):
                measured.get("/api/bench/noop/")
            samples = []
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(n // 5):
                    measured.get("/api/bench/noop/")
                samples.append((time.perf_counter() - start) / (n // 5) * 1000)
        return round(statistics.median(samples), 3)

    full = list(settings.MIDDLEWARE)
    whole = per_request_ms(full)
    with CaptureQueriesContext(connection) as ctx:
        client().get("/api/bench/noop/")
    return {
        "whole_stack_ms": whole,
        "queries": [q["sql"][:120] for q in ctx.captured_queries],
        "without": {
            name.rsplit(".", 1)[-1]: round(
                whole - per_request_ms([m for m in full if m != name]), 3
            )
            for name in full
        },
        "no_middleware_ms": per_request_ms([]),
    }


# --- Exports ---------------------------------------------------------------------------------


def _download(
    server: load.Server, path: str, headers: dict[str, str], method: str = "GET"
) -> dict[str, Any]:
    """Stream one export to nowhere while sampling the workers' resident memory."""
    connection_ = http.client.HTTPConnection("127.0.0.1", server.port, timeout=1800)
    load_average = _load()
    with load.RssSampler(server.workers()) as rss:
        start = time.perf_counter()
        connection_.request(method, path, headers={"Host": load.HOST, **headers})
        response = connection_.getresponse()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}: {response.read(300)!r}")
        size = lines = 0
        while chunk := response.read(1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\n")
        elapsed = time.perf_counter() - start
    connection_.close()
    return {
        "rows": lines - 1,
        "mib": round(size / 2**20, 1),
        "seconds": round(elapsed, 2),
        "rows_per_second": round((lines - 1) / elapsed),
        "worker_rss_growth_mib": rss.growth_mib(),
        "worker_rss_peak_mib": rss.peak_mib(),
        "load_average": load_average,
    }


def bench_exports(portal: load.Server, auth: dict[str, dict[str, str]]) -> dict[str, Any]:
    # The commitments export is a recorded write: a session POSTs it with the CSRF token.
    csrf = data.csrf_token()
    session = auth["auditor_session"]["Cookie"]
    return {
        "audit_csv": _download(portal, "/api/v1/audit-events/?format=csv", auth["auditor_token"]),
        "commitments_csv": _download(
            portal,
            "/commitments/export.csv",
            {
                "Cookie": f"{session}; {settings.CSRF_COOKIE_NAME}={csrf}",
                "X-CSRFToken": csrf,
                "Content-Length": "0",
            },
            method="POST",
        ),
    }


# --- Concurrent writers ----------------------------------------------------------------------


def bench_writers(
    users: dict[str, Any], token: dict[str, str], *, audit_lock: bool = True
) -> dict[str, Any]:
    """WRITERS clients, each taking approve_technical on its own country's applications;
    without ``audit_lock``, on a server whose audit appends take no lock (an upper bound
    for any alternative; the chain forks: only on a scratch database)."""

    tenants = data.writer_tenants(WRITERS)
    work = [data.fresh_technical_review(WRITER_TRANSITIONS, users, t) for t in tenants]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    port = PORT + 20

    def client(items: list[tuple[int, int]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine = []
        for pk, version in items:
            body = json.dumps({"action": "approve_technical", "version": version})
            start = time.perf_counter()
            conn.request(
                "POST",
                f"/api/v1/applications/{pk}/transitions/",
                body=body,
                headers={"Host": load.HOST, "Content-Type": "application/json", **token},
            )
            response = conn.getresponse()
            payload = response.read()
            mine.append(time.perf_counter() - start)
            if response.status != 200:
                with lock:
                    errors.append(f"{response.status} {payload[:200]!r}")
        conn.close()
        with lock:
            latencies.extend(mine)

    waiting: list[int] = []
    load_average = _load()
    app = "portal.wsgi:application" if audit_lock else "bench.wsgi_unlocked:application"
    with load.gunicorn(
        "writers", settings="bench.settings", port=port, workers=WRITER_WORKERS, app=app
    ) as _server:
        threads = [threading.Thread(target=client, args=(items,)) for items in work]
        start = time.perf_counter()
        for t in threads:
            t.start()
        with connection.cursor() as cursor:
            while any(t.is_alive() for t in threads):
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND NOT granted AND objid = %s",
                    [AUDIT_CHAIN_LOCK & 0xFFFFFFFF],
                )
                waiting.append(cursor.fetchone()[0])
                time.sleep(0.02)
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"writers: {len(errors)} failed, e.g. {errors[:3]}")
    latencies.sort()
    n = len(latencies)
    return {
        "clients": WRITERS,
        "countries": len(tenants),
        "server_workers": WRITER_WORKERS,
        "transitions": n,
        "seconds": round(elapsed, 2),
        "transitions_per_second": round(n / elapsed, 1),
        "p50_ms": round(latencies[n // 2] * 1000, 1),
        "p99_ms": round(latencies[min(n - 1, int(n * 0.99))] * 1000, 1),
        "audit_lock_waiters_mean": round(statistics.fmean(waiting), 2) if waiting else 0,
        "audit_lock_waiters_max": max(waiting, default=0),
        "load_average": load_average,
    }


# --- Screening -------------------------------------------------------------------------------


def bench_screening(users: dict[str, Any]) -> dict[str, Any]:
    """SCREENING submitted applications screened by one real worker of concurrency 2.

    Submitted first (the messages wait in Redis: a backlog, as after a burst or a new list),
    then the worker starts; the rate is taken from the records' own times (the first
    screening's start to the last move's decision), so the worker's start-up is not counted;
    the wall time including it is reported too.
    """

    ids = data.submit_many(SCREENING, users)
    load_average = _load()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    start = time.perf_counter()
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
        remaining = data.wait_screened(ids, timeout=900)
        wall = time.perf_counter() - start
    finally:
        worker.terminate()
        worker.wait(60)
    first = ScreeningResult.objects.filter(application_id__in=ids).aggregate(t=Min("started_at"))
    last = Decision.objects.filter(
        application_id__in=ids, action__in=["screen_clear", "screen_hold"]
    ).aggregate(t=Max("created_at"))
    seconds = (last["t"] - first["t"]).total_seconds()
    held = CountryApplication.objects.filter(pk__in=ids, state=State.SCREENING_HOLD).count()
    return {
        "applications": len(ids),
        "worker_concurrency": 2,
        "seconds": round(seconds, 2),
        "per_second": round(len(ids) / seconds, 1),
        "wall_seconds_including_worker_start": round(wall, 2),
        "left_unscreened": remaining,
        "held": held,
        "load_average": load_average,
    }


# --- Audit verification ----------------------------------------------------------------------


def bench_verify(rounds: int = 1) -> dict[str, Any]:
    """``verify_chain(processes=2)`` ``rounds`` times: the median time (each round under
    ``rounds``), the largest RSS growth of its processes."""
    me = psutil.Process()
    load_average = _load()
    seconds, growth, peak = [], [], []
    for _ in range(rounds):
        # Two processes (verify_chain's parts): the forked one's memory is sampled too.
        with load.RssSampler([me], children=True) as rss:
            start = time.perf_counter()
            result = verify_chain(processes=2)
            seconds.append(round(time.perf_counter() - start, 2))
        growth.append(rss.growth_mib())
        peak.append(rss.peak_mib())
    elapsed = statistics.median(seconds)
    return {
        "ok": result.ok,
        "checked": result.checked,
        "seconds": round(elapsed, 2),
        "rounds": seconds,
        "events_per_second": round(result.checked / elapsed),
        "peak_mib": max(growth),
        "process_rss_peak_mib": max(peak),
        "load_average": load_average,
    }


# --- The run ---------------------------------------------------------------------------------


def credentials(users: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        "reviewer_token": {"Authorization": data.api_token(users["reviewer"])},
        "auditor_token": {"Authorization": data.api_token(users["auditor"])},
        "reviewer_session": {"Cookie": data.session_cookie(users["reviewer"])},
        "auditor_session": {"Cookie": data.session_cookie(users["auditor"])},
    }


def conditions() -> dict[str, Any]:
    """What the figures were measured under (they mean little without it)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "commit": commit,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "server": f"gunicorn, {WORKERS} sync workers, DEBUG off, loopback",
        "load": f"wrk -t{THREADS} -c{CONNECTIONS}",
        "seconds_per_measure": SECONDS,
        "rounds": ROUNDS,
        "growth_seconds_per_measure": GROWTH_SECONDS,
    }


def _load() -> float:
    """The 1-minute load average now: every figure is stored with the load it ran under."""
    return round(os.getloadavg()[0], 2)


def measure_size(size: int, *, full: bool) -> dict[str, Any]:
    """One size, in this process, on its own database (``BENCH_DATABASE``, generated once and
    reused): the endpoints and the verification; with ``full``, every other figure too."""
    ensure_database()
    generation = data.generate(size)
    analyze()
    users = data.bench_users()
    auth = credentials(users)
    cases = endpoints(auth, data.sample_ids())
    part: dict[str, Any] = {"data": generation, "load_average_at_start": _load()}
    print(f"bench: {size} applications: {generation}", flush=True)
    with (
        load.gunicorn("portal", settings="bench.settings", port=PORT, workers=WORKERS) as portal,
        load.gunicorn(
            "minimal", settings="bench.minimal_settings", port=PORT + 10, workers=WORKERS
        ) as minimal,
    ):
        check_same_bytes(portal, minimal, cases)
        part["http"] = http_suite(
            portal,
            minimal,
            cases,
            rounds=ROUNDS if full else 1,
            seconds=SECONDS if full else GROWTH_SECONDS,
        )
        part["http_load_average_at_end"] = _load()
        part["audit_verify"] = bench_verify(rounds=VERIFY_ROUNDS if full else 1)
        if full:
            part["query_counts"] = query_counts(users)
            part["stack"] = stack_costs(auth["reviewer_token"])
            # In-process requests leave the connection scoped to nobody (Row-Level Security,
            # reset after each response, and kept across a reconnect): the harness acts
            # programme-wide again, like a command (the worker role honours it).
            rls.apply_scope(rls.SCOPE_ALL)
            part["exports"] = bench_exports(portal, auth)
    if full:
        part["screening"] = bench_screening(users)
        part["audit_verify_after_writes"] = bench_verify()
    return part


def database_for(size: int) -> str:
    """Each size has its own database, kept between runs (``<BENCH_DATABASE>_<size>``)."""
    return f"{settings.BENCH_DATABASE}_{size}"


def measure_writers() -> dict[str, Any]:
    """The concurrent writers with the audit lock, then without it (the upper bound of any
    alternative), on a scratch database; the chain's verification after each."""
    ensure_database()
    users = data.bench_users()
    token = {"Authorization": data.api_token(users["reviewer"])}
    with_lock = bench_writers(users, token)
    with_lock["audit_verify_ok"] = bench_verify()["ok"]
    without = bench_writers(users, token, audit_lock=False)
    without["audit_verify_ok"] = bench_verify()["ok"]  # False: the chain forked
    return {
        **with_lock,
        "without_audit_lock": without,
        "lock_cost_ratio": round(
            with_lock["transitions_per_second"] / without["transitions_per_second"], 3
        ),
    }


def run_writers() -> dict[str, Any]:
    """``measure_writers`` in a child process on a scratch copy of the smallest size's
    database (``<BENCH_DATABASE>_writers``, dropped afterwards: its chain is forked)."""

    scratch = f"{settings.BENCH_DATABASE}_writers"
    with owner_connect(settings.DATABASE_OWNER["NAME"]) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch))
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(scratch), sql.Identifier(database_for(min(SIZES)))
            )
        )
    try:
        return run_part(scratch, {"BENCH_PART_KIND": "writers"})
    finally:
        with owner_connect(settings.DATABASE_OWNER["NAME"]) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch))
            )


def run_size(size: int, *, full: bool) -> dict[str, Any]:
    """``measure_size`` in a child process on that size's database."""
    return run_part(
        database_for(size), {"BENCH_ONE_SIZE": str(size), "BENCH_FULL": "1" if full else "0"}
    )


def run_part(database: str, extra: dict[str, str]) -> dict[str, Any]:
    """A part of the run in a child process on ``database`` (the settings name the database
    at start-up, the servers' and the child's alike); its figures."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        target = Path(out.name)
    env = {**os.environ, **extra, "BENCH_DATABASE": database, "BENCH_PART": str(target)}
    try:
        subprocess.run(
            [sys.executable, "-m", "bench.run"],
            env=env,
            check=True,
            cwd=Path(__file__).parent.parent,
            timeout=SIZE_TIMEOUT,
        )
        part: dict[str, Any] = json.loads(target.read_text())
        return part
    finally:
        target.unlink(missing_ok=True)


def main() -> int:
    # A stopped run still stops its servers and worker (the finally clauses run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if "BENCH_PART" in os.environ:  # a child of run_part
        if os.environ.get("BENCH_PART_KIND") == "writers":
            part = measure_writers()
        else:
            part = measure_size(
                int(os.environ["BENCH_ONE_SIZE"]), full=os.environ.get("BENCH_FULL") == "1"
            )
        Path(os.environ["BENCH_PART"]).write_text(json.dumps(part))
        return 0
    load.ensure_wrk()
    started = time.perf_counter()
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "conditions": conditions(),
        "growth": {},
    }
    for index, size in enumerate(SIZES):
        last = index == len(SIZES) - 1
        part = run_size(size, full=last)
        results["growth"][str(size)] = {
            "data": part["data"],
            "load_average_at_start": part["load_average_at_start"],
            "http": {
                name: {k: v for k, v in entry.items() if k not in {"rounds", "minimal_stack"}}
                for name, entry in part["http"].items()
            },
            "audit_verify": part["audit_verify"],
        }
        if last:
            results.update({k: v for k, v in part.items() if k != "load_average_at_start"})
    results["writers"] = run_writers()
    results["conditions"]["run_seconds"] = round(time.perf_counter() - started)
    results["conditions"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(results, indent=2)
    (RESULTS / f"{results['when'].replace(':', '')}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    try:
        from bench import chart
    except ImportError:  # matplotlib is the optional "bench" extra
        print("bench: matplotlib missing (pip install -e '.[bench]'): no chart", flush=True)
    else:
        chart.growth(results, RESULTS / "growth.png")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
