"""Concurrent load: N keep-alive clients hammer one URL for a bounded time.

The clients are threads spread over a few processes (spawned, so each has its own
GIL and nothing of the parent's database connections). Each process starts at the
same wall-clock moment and stops at a fixed deadline; every request has a timeout,
so the whole run is bounded by ``seconds`` plus start-up and one timeout.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import threading
import time
from dataclasses import dataclass, field

import httpx

REQUEST_TIMEOUT_S = 30.0
START_DELAY_S = 3.0  # spawned processes import httpx before the common start time


@dataclass
class LoadResult:
    clients: int
    processes: int
    seconds: float
    ok: int = 0
    errors: int = 0
    first_error: str = ""
    latencies: list[float] = field(default_factory=list)
    client_cpu_s: float = 0.0  # CPU time the load generator itself used

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def _client_thread(
    base_url: str,
    path: str,
    token: str,
    start_at: float,
    stop_at: float,
    out: list[tuple[int, int, str, list[float]]],
) -> None:
    ok = errors = 0
    first_error = ""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
        time.sleep(max(0.0, start_at - time.time()))
        while time.time() < stop_at:
            started = time.perf_counter()
            try:
                response = client.get(path)
            except httpx.HTTPError as exc:
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"
                continue
            elapsed = time.perf_counter() - started
            if response.status_code == 200:
                ok += 1
                latencies.append(elapsed)
            else:
                errors += 1
                first_error = first_error or f"HTTP {response.status_code}: {response.text[:200]}"
    out.append((ok, errors, first_error, latencies))


def _client_process(
    base_url: str, path: str, token: str, threads: int, start_at: float, stop_at: float
) -> tuple[int, int, str, list[float], float]:
    time.sleep(max(0.0, start_at - time.time() - 0.5))
    cpu_start = time.process_time()
    results: list[tuple[int, int, str, list[float]]] = []
    workers = [
        threading.Thread(
            target=_client_thread,
            args=(base_url, path, token, start_at, stop_at, results),
            daemon=True,
        )
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=stop_at - time.time() + REQUEST_TIMEOUT_S + 5)
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    first = next((r[2] for r in results if r[2]), "")
    if len(results) < threads:
        errors += threads - len(results)
        first = first or "a client thread did not finish in time"
    latencies = [lat for r in results for lat in r[3]]
    return ok, errors, first, latencies, time.process_time() - cpu_start


def run_load(
    base_url: str, path: str, token: str, *, clients: int, processes: int, seconds: float
) -> LoadResult:
    """``clients`` concurrent keep-alive clients on ``path`` for ``seconds``."""
    processes = max(1, min(processes, clients))
    per_process = [clients // processes + (1 if i < clients % processes else 0)
                   for i in range(processes)]
    start_at = time.time() + START_DELAY_S
    stop_at = start_at + seconds
    result = LoadResult(clients=clients, processes=processes, seconds=seconds)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=context) as pool:
        futures = [
            pool.submit(_client_process, base_url, path, token, n, start_at, stop_at)
            for n in per_process
        ]
        limit = START_DELAY_S + seconds + REQUEST_TIMEOUT_S + 30
        for future in futures:
            ok, errors, first, latencies, cpu = future.result(timeout=limit)
            result.client_cpu_s += cpu
            result.ok += ok
            result.errors += errors
            result.first_error = result.first_error or first
            result.latencies.extend(latencies)
    return result
