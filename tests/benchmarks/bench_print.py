"""Printing: the median time to render the payment invoice PDF, and a 100-invoice batch.

Run by ``make bench`` (``PYTHONPATH=tests``). It loads the sales CRM with its demo
data and print templates into a temporary SQLite database (and PostgreSQL, when a
throwaway cluster can be started), then times, through ``PrintService.render``
(read the records, fork a worker, render the template in the sandbox, make the
PDF, send it back):

- the payment invoice of one demo invoice, ``RECORDBASE_BENCH_PRINT_REPEATS`` times;
- one PDF of 100 payment invoices (each on its page), a few times;
- the same invoice as HTML (no PDF), to show what the PDF step costs.

Environment variables (defaults in brackets):

    RECORDBASE_BENCH_BACKENDS        sqlite,postgresql  [sqlite,postgresql]
    RECORDBASE_BENCH_PRINT_REPEATS   single renders     [15]
    RECORDBASE_BENCH_PRINT_BATCH     invoices per batch [100]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def make_invoices(rt: object, count: int) -> list[int]:
    from recordbase.records.query import ListQuery

    records = rt.records  # type: ignore[attr-defined]
    demo = records.list_page("invoices", ListQuery(limit=100)).items
    ids = [int(i["id"]) for i in demo]
    template = demo[0]
    while len(ids) < count:
        body = {k: template[k] for k in ("client", "contract", "date", "due_date", "status",
                                         "total")}
        body["lines"] = [
            {k: v for k, v in line.items() if k not in ("id", "version")}
            for line in template["lines"]
        ]
        ids.append(int(records.create("invoices", body)["id"]))
    return ids[:count]


def bench(url: str, label: str, repeats: int, batch: int) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from printing.conftest import load_crm
    from recordbase.runtime import create_system_tables, make_runtime

    rt = make_runtime(url, hash_profile="cheapest")
    try:
        create_system_tables(rt.engine)
        load_crm(rt)
        ids = make_invoices(rt, batch)
        prints = rt.prints
        first = ids[0]
        prints.render("invoices", "payment_invoice", [first], "pdf", None)  # fork server up
        single = timed(lambda: prints.render("invoices", "payment_invoice", [first], "pdf",
                                             None), repeats)
        html = timed(lambda: prints.render("invoices", "payment_invoice", [first], "html",
                                           None), repeats)
        many = timed(lambda: prints.render("invoices", "payment_invoice", ids, "pdf", None), 3)
        size = len(prints.render("invoices", "payment_invoice", ids, "pdf", None).content)
        print(f"{label:<11} payment invoice PDF  median {statistics.median(single) * 1000:7.1f} ms"
              f"  (min {min(single) * 1000:.1f}, max {max(single) * 1000:.1f}, n={repeats})")
        print(f"{label:<11} payment invoice HTML median {statistics.median(html) * 1000:7.1f} ms")
        print(f"{label:<11} {len(ids)}-invoice batch PDF median {statistics.median(many):6.2f} s"
              f"  ({statistics.median(many) / len(ids) * 1000:.1f} ms per invoice, "
              f"{size / 1024 / 1024:.1f} MB, n=3)")
    finally:
        rt.dispose()


def main() -> None:
    backends = os.environ.get("RECORDBASE_BENCH_BACKENDS", "sqlite,postgresql").split(",")
    repeats = int(os.environ.get("RECORDBASE_BENCH_PRINT_REPEATS", "15"))
    batch = int(os.environ.get("RECORDBASE_BENCH_PRINT_BATCH", "100"))
    print(f"printing benchmark: {repeats} single renders, a batch of {batch}; "
          f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as folder:
        if "sqlite" in backends:
            bench(f"sqlite:///{folder}/print.sqlite3", "sqlite", repeats, batch)
    if "postgresql" in backends:
        from support.pgcluster import PgCluster

        cluster = PgCluster.from_environment()
        try:
            cluster.start()
        except Exception as exc:  # noqa: BLE001 (a benchmark skips what it cannot start)
            print(f"postgresql  skipped: {exc}")
            return
        try:
            cluster.create_database("rb_bench_print")
            bench(cluster.url_for("rb_bench_print"), "postgresql", repeats, batch)
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
