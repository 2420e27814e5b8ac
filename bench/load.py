"""Servers and load: gunicorn started on the bench database, wrk driving it over loopback.

Nothing here imports Django: the servers are separate processes, started the way production
starts them (``gunicorn portal.wsgi``), with ``DJANGO_SETTINGS_MODULE`` naming the bench
settings.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).parent
WRK_SCRIPT = HERE / "wrk.lua"
# The same Host on both servers, so absolute links in the bodies (pagination) are equal.
HOST = "localhost"


@dataclass(frozen=True)
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()


@contextmanager
def gunicorn(
    name: str,
    *,
    settings: str,
    port: int,
    workers: int = 2,
    probe: str = "/api/bench/noop/",
    app: str = "portal.wsgi:application",
) -> Iterator[Server]:
    """A gunicorn with ``workers`` sync workers on 127.0.0.1:``port``, until the block ends."""
    gunicorn_bin = Path(sys.executable).with_name("gunicorn")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings}
    process = subprocess.Popen(
        [
            str(gunicorn_bin),
            app,
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "600",
        ],
        env=env,
        cwd=HERE.parent,
    )
    server = Server(name, port, process)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn ({name}) exited with {process.returncode}")
            try:
                get(server, probe)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        # Every worker imports Django lazily on its first request: warm them all.
        for _ in range(workers * 4):
            get(server, probe)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get(server: Server, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    try:
        connection.request("GET", path, headers={"Host": HOST, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def ensure_wrk() -> str:
    """The path of wrk; Debian's package is installed when missing (as root, as here)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("wrk is missing: apt-get install wrk (Debian) and run again")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("apt-get installed no wrk")
    return found


def wrk(
    server: Server,
    paths: Sequence[str],
    headers: dict[str, str],
    *,
    connections: int,
    threads: int,
    seconds: float,
) -> dict[str, Any]:
    """Drive ``paths`` (cycled) at fixed concurrency for ``seconds``; rate and latencies."""
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as listing:
        listing.write("\n".join(paths) + "\n")
    try:
        env = {
            **os.environ,
            "BENCH_PATHS": listing.name,
            "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in {"Host": HOST, **headers}.items()),
        }
        out = subprocess.run(
            [
                ensure_wrk(),
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-s",
                str(WRK_SCRIPT),
                f"http://127.0.0.1:{server.port}",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(listing.name)
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    if raw["non_2xx_3xx"] or raw["socket_errors"]:
        raise RuntimeError(f"{server.name} {paths[0]}: errors under load: {raw}")
    seconds_run = raw["duration_us"] / 1e6
    return {
        "rps": round(raw["requests"] / seconds_run, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "requests": raw["requests"],
        "bytes_per_response": round(raw["bytes"] / max(raw["requests"], 1)),
        "load_average": round(os.getloadavg()[0], 2),
    }


class RssSampler:
    """Peak resident memory of a set of processes, sampled every 20 ms in a thread;
    ``children``: also of the processes they start meanwhile (a forked child's growth counts
    from its resident size when first seen: the pages it shares with its parent at the fork
    are in both)."""

    def __init__(self, processes: Sequence[psutil.Process], *, children: bool = False) -> None:
        self.processes = list(processes)
        self.children = children
        self.before = {p.pid: p.memory_info().rss for p in self.processes}
        self.peak = dict(self.before)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        found: list[psutil.Process] = []
        next_scan = 0.0
        while not self._stop.is_set():
            if self.children and time.monotonic() >= next_scan:
                # Every half second: finding children reads every process's /proc entry,
                # CPU (and GIL) the sampled process would otherwise lose every 20 ms.
                next_scan = time.monotonic() + 0.5
                found = []
                for p in self.processes:
                    try:
                        found += p.children(recursive=True)
                    except psutil.Error:
                        continue
            for p in [*self.processes, *found]:
                try:
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                self.before.setdefault(p.pid, rss)
                # Set on first sight too: a child read as it exits shows 0 bytes.
                self.peak[p.pid] = max(self.peak.get(p.pid, 0), rss)
            self._stop.wait(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def growth_mib(self) -> float:
        """The largest growth of one process over its resident size before (MiB)."""
        return round(max(self.peak[pid] - self.before[pid] for pid in self.before) / 2**20, 1)

    def peak_mib(self) -> float:
        return round(max(self.peak.values()) / 2**20, 1)
