"""The web list view on a 1,000,000-row entity: first page, next page, a filter, a sort.

Run by ``make bench`` (``PYTHONPATH=tests``). For each backend it loads
``bench_items`` through ``benchdata`` (the same data set as ``bench_records``),
signs in through the login form, and times, in process with Flask's test client
(so the time is the server's own: routing, session, the list service, rendering),
each of these list pages next to the same ``RecordService.list_page`` call made
directly (the "direct" column: the query and JSON shaping without the web layer):

    first page   /r/bench_items/                         (newest first, 50 rows)
    next page    the "Next" link of the first page        (keyset cursor)
    previous     the "Previous" link of the third page     (before-cursor: the index backwards)
    filter       ?filter[status][in]=approved&filter[amount][gte]=...
    sort         ?sort=-amount                            (indexed column)

It prints medians and p95 in milliseconds and PASS/MISS against 100 ms. Variables:

    RECORDBASE_BENCH_WEB_ROWS    rows of bench_items              [1000000]
    RECORDBASE_BENCH_BACKENDS    sqlite,postgresql                [sqlite,postgresql]
    RECORDBASE_BENCH_REPEATS     timed requests per measurement   [30]
    RECORDBASE_TEST_PG_URL       an existing PostgreSQL server instead of a throwaway one
"""

from __future__ import annotations

import html
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import benchdata

from recordbase.app import create_app
from recordbase.records.query import FilterSpec, ListQuery
from support.pgcluster import PgCluster

TARGET_MS = 100.0
WARMUPS = 3
TOKEN = re.compile(r'name="csrf-token" content="([0-9a-f]{64})"')
NEXT = re.compile(r'href="([^"]+)" rel="next"')
PREV = re.compile(r'href="([^"]+)" rel="prev"')


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    for _ in range(WARMUPS):
        fn()
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def run(url: str, rows: int, repeats: int) -> list[tuple[str, list[float], list[float]]]:
    log(f"  loading {rows:,} rows")
    dataset = benchdata.load(url, rows, log=log)
    log(f"  loaded in {dataset.load_seconds:.0f} s (+ indexes {dataset.index_seconds:.0f} s)")
    app = create_app({"DATABASE_URL": url})
    rt = app.extensions["recordbase"]
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = TOKEN.search(page)
    assert token is not None
    signed = client.post("/login", data={
        "login": benchdata.BENCH_LOGIN, "password": benchdata.BENCH_PASSWORD,
        "csrf_token": token.group(1),
    })
    assert signed.status_code == 303, signed.status_code
    base = f"/r/{benchdata.ITEMS}/"
    first = client.get(base)
    assert first.status_code == 200, first.status_code
    link = NEXT.search(first.get_data(as_text=True))
    assert link is not None, "the first page has no next link"
    next_url = html.unescape(link.group(1))
    after = next_url.split("after=")[1].split("&")[0]
    second = NEXT.search(client.get(next_url).get_data(as_text=True))
    assert second is not None, "the second page has no next link"
    back = PREV.search(client.get(html.unescape(second.group(1))).get_data(as_text=True))
    assert back is not None, "the third page has no previous link"
    prev_url = html.unescape(back.group(1))
    before = prev_url.split("before=")[1].split("&")[0]
    low = "500000.00"
    filters = (FilterSpec("status", "in", ("approved",)), FilterSpec("amount", "gte", (low,)))
    cases = [
        ("first page", base, ListQuery()),
        ("next page", next_url, ListQuery(after=after)),
        ("previous", prev_url, ListQuery(before=before)),
        ("filter", f"{base}?filter[status][in]=approved&filter[amount][gte]={low}",
         ListQuery(filters=filters)),
        ("sort", f"{base}?sort=-amount", ListQuery(sort=("-amount",))),
    ]
    results = []
    for name, path, query in cases:
        def web(path: str = path) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        def direct(query: ListQuery = query) -> None:
            rt.records.list_page(benchdata.ITEMS, query)

        web_ms, direct_ms = [], []
        for _ in range(2):  # alternate, so drift hits both the same
            web_ms += timed(web, repeats // 2)
            direct_ms += timed(direct, repeats // 2)
        results.append((name, web_ms, direct_ms))
    rt.dispose()
    return results


def report(backend: str, rows: int, results: list[tuple[str, list[float], list[float]]]) -> bool:
    print(f"\n{backend}, {rows:,} rows: list view (ms of server time, median / p95)")
    heads = f"{'web p50':>9} {'web p95':>9} {'direct p50':>11} {'overhead':>9}"
    print(f"  {'case':<12} {heads}  target")
    ok = True
    for name, web_ms, direct_ms in results:
        w50, w95 = summary(web_ms)
        d50, _ = summary(direct_ms)
        passed = w50 < TARGET_MS
        ok = ok and passed
        print(f"  {name:<12} {w50:9.1f} {w95:9.1f} {d50:11.1f} {w50 - d50:9.1f}  "
              f"{'PASS' if passed else 'MISS'} (< {TARGET_MS:.0f})")
    return ok


def main() -> int:
    rows = int(os.environ.get("RECORDBASE_BENCH_WEB_ROWS", "1000000"))
    repeats = max(2, int(os.environ.get("RECORDBASE_BENCH_REPEATS", "30")))
    backends = [b.strip() for b in os.environ.get(
        "RECORDBASE_BENCH_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="recordbase-bench-web-"))
    pg: PgCluster | None = None
    all_ok = True
    try:
        for backend in backends:
            log(f"== {backend}")
            if backend == "postgresql":
                pg = PgCluster.from_environment()
                pg.start()
                url = pg.create_database("rb_bench_web")
            else:
                url = f"sqlite:///{workdir / 'bench_web.sqlite3'}"
            all_ok = report(backend, rows, run(url, rows, repeats)) and all_ok
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print("\nall under the target" if all_ok else "\nsome cases missed the target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
