"""Concurrent load with wrk: N keep-alive connections on one URL for a bounded time.

wrk (Debian's package, installed by ``make bench``) is an event-driven load generator
written in C. The earlier generator, threads of httpx clients in two Python processes,
spent about as much CPU per request as the server it measured, on the same two cores,
so its requests/s said more about the client than about Recordbase. wrk's own CPU is
still measured (``client_cpu_s``) and printed next to the server's.

A small Lua script makes wrk report what the table needs as one JSON line: the count
of answers by class, the p50/p95 latency and the first non-2xx answer's status.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

WRK = "wrk"
TIMEOUT_S = 30  # per request, wrk's --timeout
SCRIPT = """
local bad_status = 0
response = function(status, headers, body)
  if status >= 300 and bad_status == 0 then bad_status = status end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50_us": %d, "p95_us": %d, "bad_status": %d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(95), bad_status))
end
"""


@dataclass
class LoadResult:
    clients: int
    threads: int
    seconds: float
    ok: int = 0
    errors: int = 0
    first_error: str = ""
    p50_s: float = 0.0
    p95_s: float = 0.0
    client_cpu_s: float = 0.0  # CPU time the load generator itself used

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def wrk_path() -> str:
    found = shutil.which(WRK)
    if found is None:
        raise SystemExit("wrk is not installed: `make bench` installs it (Debian package wrk)")
    return found


def run_load(
    base_url: str, path: str, token: str, *, clients: int, threads: int, seconds: float,
    workdir: Path,
) -> LoadResult:
    """``clients`` concurrent keep-alive connections on ``path`` for ``seconds``."""
    script = workdir / "benchload.lua"
    script.write_text(SCRIPT, encoding="utf-8")
    threads = max(1, min(threads, clients))
    command = [
        wrk_path(), f"--threads={threads}", f"--connections={clients}",
        f"--duration={max(1, round(seconds))}s", f"--timeout={TIMEOUT_S}s",
        f"--script={script}", "--header", f"Authorization: Bearer {token}",
        base_url + path,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(  # a fixed program and arguments, no shell
        command, capture_output=True, text=True, timeout=seconds + TIMEOUT_S + 30, check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = LoadResult(clients=clients, threads=threads, seconds=seconds)
    result.client_cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report = next((line for line in done.stdout.splitlines() if line.startswith("{")), None)
    if done.returncode != 0 or report is None:
        result.first_error = f"wrk exited with {done.returncode}: {done.stderr.strip()[:300]}"
        return result
    data = json.loads(report)
    socket_errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    result.seconds = data["duration_us"] / 1e6
    result.errors = data["status"] + socket_errors
    result.ok = data["requests"] - data["status"]
    result.p50_s = data["p50_us"] / 1e6
    result.p95_s = data["p95_us"] / 1e6
    if data["bad_status"]:
        result.first_error = f"HTTP {data['bad_status']}"
    elif socket_errors:
        result.first_error = f"{socket_errors} socket errors or timeouts"
    return result
