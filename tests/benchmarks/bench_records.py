"""Records API latency, throughput and memory on SQLite and PostgreSQL, next to direct SQL.

Run by ``make bench`` (``PYTHONPATH=tests``). For every backend and size it:

1. creates ``bench_customers`` (1,000 rows) and ``bench_items`` (12 fields, one a link)
   through ``SchemaService`` and bulk-loads the items (see ``benchdata``);
2. starts a real ``recordbase serve`` (gunicorn, 2 workers) on 127.0.0.1;
3. times each list/read/update request over HTTP (one keep-alive ``http.client``
   connection) and,
   alternating with it, the same SELECT/UPDATE run directly with SQLAlchemy Core
   on the same database (the "direct" baseline), and reports p50/p95 and the
   ratio HTTP/direct;
4. times the first page once more from the least Flask app that can serve it
   (``floorapps.page_app``: the direct SELECT and its rows as JSON), next to the direct
   SELECT again: how far any Flask application on this server is from the direct query;
5. runs 10 concurrent clients (wrk) on the first page for a bounded time (requests/s);
6. samples the memory of the gunicorn master plus workers the whole time.

It prints a table, checks the targets (PASS/MISS), and writes JSON to
``artifacts/bench_records.json``. The warm-ups bring the server to the state it runs in
for hours: on PostgreSQL a record statement is prepared on its fifth run on a pooled
connection (each worker keeps several), so with fewer warm-ups the first timed requests
still pay for parsing and planning. Environment variables (defaults in brackets):

    RECORDBASE_BENCH_SIZES       row counts of bench_items      [100000,1000000]
    RECORDBASE_BENCH_BACKENDS    sqlite,postgresql               [sqlite,postgresql]
    RECORDBASE_BENCH_REPEATS     timed requests per measurement  [100]
    RECORDBASE_BENCH_WARMUPS     untimed requests before them    [20]
    RECORDBASE_BENCH_BUDGET_S    time cap of one measurement     [20]
    RECORDBASE_BENCH_LOAD_S      length of the concurrent run    [10]
    RECORDBASE_BENCH_CLIENTS     concurrent clients              [10]
    RECORDBASE_BENCH_THREADS     gunicorn threads per worker     [4, the CLI default]
    RECORDBASE_BENCH_JSON        where the JSON goes             [artifacts/bench_records.json]
    RECORDBASE_BENCH_COMMIT      label of the code measured      [git rev-parse --short HEAD]
    RECORDBASE_TEST_PG_URL       use this PostgreSQL server instead of a throwaway cluster
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import benchdata
import benchreport
import sqlalchemy as sa
from benchload import run_load
from benchreport import (
    DEEP_PAGE,
    FIRST_PAGE,
    FLOOR,
    FLOOR_PAGE,
    GET,
    NEXT_PAGE,
    SORT_INDEXED,
    UPDATE,
)
from benchserver import Answer, Client, Server, cpu_seconds, process_tree
from floorapps import PAGE, SYSTEM_COLUMNS, first_page

from recordbase import db
from recordbase.runtime import make_runtime
from support.pgcluster import PgCluster

ROOT = Path(__file__).resolve().parents[2]
MIN_SAMPLES = 5


@dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...]
    backends: tuple[str, ...]
    repeats: int
    warmups: int
    budget_s: float
    load_s: float
    clients: int
    client_threads: int
    workers: int
    threads: int
    json_path: Path

    @classmethod
    def from_environment(cls) -> Config:
        env = os.environ.get

        def number(name: str, default: float) -> float:
            text = env(name)
            return float(text) if text else default

        sizes = tuple(
            int(s.replace("_", "")) for s in (env("RECORDBASE_BENCH_SIZES") or
                                              "100000,1000000").split(",") if s.strip()
        )
        backends = tuple(
            b.strip() for b in (env("RECORDBASE_BENCH_BACKENDS") or "sqlite,postgresql").split(",")
            if b.strip()
        )
        unknown = set(backends) - {"sqlite", "postgresql"}
        if unknown:
            raise SystemExit(f"RECORDBASE_BENCH_BACKENDS: unknown backend(s) {sorted(unknown)}")
        return cls(
            sizes=sizes,
            backends=backends,
            repeats=int(number("RECORDBASE_BENCH_REPEATS", 100)),
            warmups=int(number("RECORDBASE_BENCH_WARMUPS", 20)),
            budget_s=number("RECORDBASE_BENCH_BUDGET_S", 20),
            load_s=number("RECORDBASE_BENCH_LOAD_S", 10),
            clients=int(number("RECORDBASE_BENCH_CLIENTS", 10)),
            client_threads=2,
            workers=2,
            threads=int(number("RECORDBASE_BENCH_THREADS", 4)),
            json_path=Path(env("RECORDBASE_BENCH_JSON") or ROOT / "artifacts" /
                           "bench_records.json"),
        )


def log(message: str) -> None:
    print(message, flush=True)


# --- timing -----------------------------------------------------------------------------

Timed = Callable[[int], float]  # iteration number -> seconds spent in the timed part


def measure(
    name: str, http: Timed | None, direct: Timed | None, config: Config
) -> dict[str, Any]:
    """Alternate HTTP and direct (so noise hits both alike); p50/p95 of each.

    Bounded: warm-ups stop after a quarter of the budget, timed rounds once the
    budget is spent and ``MIN_SAMPLES`` are in.
    """
    calls = [f for f in (http, direct) if f is not None]
    started = time.monotonic()
    for i in range(config.warmups):
        for call in calls:
            call(i)
        if time.monotonic() - started > config.budget_s / 4:
            break
    samples: dict[int, list[float]] = {id(f): [] for f in calls}
    started = time.monotonic()
    for i in range(config.warmups, config.warmups + config.repeats):
        for call in calls if i % 2 else calls[::-1]:
            samples[id(call)].append(call(i))
        done = len(samples[id(calls[0])])
        if time.monotonic() - started > config.budget_s and done >= MIN_SAMPLES:
            break
    return benchreport.summarise(
        name,
        samples[id(http)] if http is not None else [],
        samples[id(direct)] if direct is not None else [],
    )


# --- one backend, one size ----------------------------------------------------------------


class Bench:
    """The measurements against one loaded database and its running server."""

    def __init__(self, dataset: benchdata.Dataset, server: Server, config: Config) -> None:
        self.data = dataset
        self.config = config
        self.rt = make_runtime(dataset.url, pool_pre_ping=False)
        self.engine = self.rt.engine
        self.dialect = self.engine.dialect.name
        catalog = self.rt.cache.current()
        self.entity = catalog.entity(benchdata.ITEMS)
        self.table = catalog.table(self.entity)
        self.cols = [self.table.c[n] for n in SYSTEM_COLUMNS] + [
            self.table.c[c] for c in dataset.columns.values()
        ]
        self.searchable = [
            self.table.c[f.column]
            for f in self.entity.fields
            if catalog.type_of(f).searchable and catalog.type_of(f).source_column(f)
        ]
        self.base = f"/api/v1/records/{benchdata.ITEMS}"
        token = Client(server.base_url).request(
            "POST", "/api/v1/auth/token",
            json_body={"username": benchdata.BENCH_LOGIN, "password": benchdata.BENCH_PASSWORD},
        ).json()["token"]
        self.token = token
        self.client = Client(server.base_url, token)
        # ids of each page seen, (HTTP, direct) per measurement: they must agree
        self.pages: dict[str, tuple[list[list[int]], list[list[int]]]] = {}

    def close(self) -> None:
        self.client.close()
        self.rt.dispose()

    def col(self, name: str) -> sa.Column[Any]:
        return self.table.c[self.data.columns[name]]

    # --- building blocks ------------------------------------------------------------

    def _asc(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        # the platform's rule: NULLs sort as the smallest values on both databases
        return column.asc().nulls_first() if self.dialect == "postgresql" else column.asc()

    def _contains(self, column: sa.ColumnElement[Any], needle: str) -> sa.ColumnElement[bool]:
        pattern = f"%{needle}%"
        if self.dialect == "postgresql":
            return column.ilike(pattern, escape="\\")
        if needle.isascii():
            return column.like(pattern, escape="\\")  # SQLite's LIKE ignores ASCII case
        return sa.func.rb_match(column, needle, "contains") == 1

    def _select(
        self, where: list[Any], order: list[Any]
    ) -> sa.Select[Any]:
        return sa.select(*self.cols).where(*where).order_by(*order).limit(PAGE + 1)

    def _direct_rows(self, stmt: sa.Select[Any]) -> tuple[float, list[Any]]:
        started = time.perf_counter()
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return time.perf_counter() - started, rows

    def _http_get(
        self, path: str, params: dict[str, str] | None = None, client: Client | None = None
    ) -> tuple[float, Any]:
        started = time.perf_counter()
        response = (client or self.client).get(path, params=params)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} {params}: HTTP {response.status_code} "
                               f"{response.text[:500]}")
        return elapsed, response

    def _list_pair(
        self, name: str, params: dict[str, str], stmt: sa.Select[Any],
        client: Client | None = None,
    ) -> tuple[Timed, Timed]:
        """HTTP (on ``client``, else the benchmark's Recordbase client) and direct."""
        def http(_i: int) -> float:
            elapsed, response = self._http_get(self.base, {**params, "limit": str(PAGE)},
                                               client)
            self.pages.setdefault(name, ([], []))[0].append(_ids_of(response))
            return elapsed

        def direct(_i: int) -> float:
            elapsed, rows = self._direct_rows(stmt)
            self.pages.setdefault(name, ([], []))[1].append([row.id for row in rows[:PAGE]])
            return elapsed

        return http, direct

    # --- the measurements -----------------------------------------------------------

    def run(self, floor_server: Callable[[], Server]) -> list[dict[str, Any]]:
        """Every measurement; ``floor_server`` starts ``floorapps.page_app`` for the line
        under the first page."""
        t = self.table
        id_desc = [t.c.id.desc()]
        name_col = self.col("name")
        search = sa.or_(*(self._contains(c, benchdata.SEARCH_WORD) for c in self.searchable))
        cases: list[tuple[str, dict[str, str], sa.Select[Any]]] = [
            (FIRST_PAGE, {}, self._first_page()),
            (SORT_INDEXED, {"sort": "-amount"}, self._valued([])),
            ("sort by unindexed field (rank)", {"sort": "rank"},
             self._select([], [self._asc(self.col("rank")), t.c.id.asc()])),
            (f"filter name contains {benchdata.CONTAINS_WORD!r}",
             {"filter[name][contains]": benchdata.CONTAINS_WORD},
             self._select([self._contains(name_col, benchdata.CONTAINS_WORD)], id_desc)),
            (f"quick search q={benchdata.SEARCH_WORD!r}", {"q": benchdata.SEARCH_WORD},
             self._select([search], id_desc)),
        ]  # fmt: skip
        out = [self._floor()]
        for name, params, stmt in cases:
            log(f"  {name}")
            out.append(measure(name, *self._list_pair(name, params, stmt), self.config))
            if name == FIRST_PAGE:
                log(f"  {FLOOR_PAGE}")
                with floor_server() as server:
                    out.append(self._floor_page(server))
            if name == SORT_INDEXED:
                log(f"  {NEXT_PAGE}")
                out.append(self._next_pages())
                out.append(self._deep_page())
        log("  get by id")
        out.append(self._get())
        log("  update one (PATCH with If-Match)")
        out.append(self._update())
        self._check_pages(out)
        return out

    def _first_page(self) -> sa.Select[Any]:
        return first_page(self.table, self.data.columns.values())

    def _floor_page(self, server: Server) -> dict[str, Any]:
        """The first page from ``floorapps.page_app`` on ``server``, next to the direct
        SELECT it runs: the least any Flask application takes for this page."""
        client = Client(server.base_url)
        try:
            pair = self._list_pair(FLOOR_PAGE, {}, self._first_page(), client)
            return measure(FLOOR_PAGE, *pair, self.config)
        finally:
            client.close()

    def _floor(self) -> dict[str, Any]:
        def http(_i: int) -> float:
            started = time.perf_counter()
            response = self.client.get(f"{self.base}/1", headers={"Authorization": ""})
            elapsed = time.perf_counter() - started
            if response.status_code != 401:
                raise RuntimeError(f"expected 401 without a token, got {response.status_code}")
            return elapsed

        log(f"  {FLOOR}")
        return measure(FLOOR, http, None, self.config)

    def _check_pages(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            pages = self.pages.get(row["name"])
            row["same_rows"] = None if pages is None else pages[0] == pages[1]
            if pages is not None and pages[0] != pages[1]:
                log(f"    WARNING {row['name']}: HTTP and direct returned different records")

    def _valued(self, where: list[sa.ColumnElement[bool]]) -> sa.Select[Any]:
        """The query the platform runs for a page sorted by -amount (records/query.py).

        ``amount`` may be NULL, and NULLs sort as the smallest values; so the platform
        reads the rows with an amount as one index range in (amount, id) order and the
        rows without one by a second query only when the first did not fill the page.
        On every page measured here the first query fills it: this is that query.
        """
        amount, t = self.col("amount"), self.table
        return (sa.select(*self.cols).where(amount.is_not(None), *where)
                .order_by(amount.desc(), t.c.id.desc()).limit(PAGE + 1))

    def _after_desc(self, value: Any, last_id: int) -> sa.ColumnElement[bool]:
        """The keyset condition after (value, last_id) in (-amount, -id), NULLs aside."""
        amount, t = self.col("amount"), self.table
        assert value is not None, "the cursor reached the NULL amounts (they come last)"
        # with the redundant bound on amount that starts the index scan there
        return sa.and_(
            amount <= value, sa.or_(amount < value, sa.and_(amount == value, t.c.id < last_id))
        )

    def _deep_page(self) -> dict[str, Any]:
        """A page halfway down the -amount order (the cursor comes from the API itself)."""
        amount, t = self.col("amount"), self.table
        with self.engine.connect() as conn:
            middle = conn.execute(
                sa.select(amount).where(amount.is_not(None))
                .order_by(amount.desc(), t.c.id.desc()).offset(self.data.rows // 2).limit(1)
            ).scalar_one()
        # the first page of the rows at or below the median: its cursor points mid-list
        params = {"sort": "-amount", "limit": str(PAGE)}
        _e, page = self._http_get(self.base, {**params, "filter[amount][lte]": str(middle)})
        cursor = page.json()["next"]
        _e, rows = self._direct_rows(self._valued([amount <= middle]))
        value, last_id = getattr(rows[PAGE - 1], amount.key), rows[PAGE - 1].id
        stmt = self._valued([self._after_desc(value, last_id)])
        log(f"  {DEEP_PAGE}")
        return measure(DEEP_PAGE, *self._list_pair(DEEP_PAGE, {**params, "after": cursor}, stmt),
                       self.config)

    def _next_pages(self) -> dict[str, Any]:
        """Walk the pages after the first one, by cursor (HTTP) and by keyset (direct)."""
        amount = self.col("amount")
        params = {"sort": "-amount", "limit": str(PAGE)}
        cursor = [self._http_get(self.base, params)[1].json()["next"]]
        last = [self._direct_rows(self._valued([]))[1][PAGE - 1]]
        http_pages, direct_pages = self.pages.setdefault(NEXT_PAGE, ([], []))

        def http(_i: int) -> float:
            elapsed, response = self._http_get(self.base, {**params, "after": cursor[0]})
            body = response.json()
            cursor[0] = body["next"]
            http_pages.append([item["id"] for item in body["items"]])
            return elapsed

        def direct(_i: int) -> float:
            after = self._after_desc(getattr(last[0], amount.key), last[0].id)
            elapsed, rows = self._direct_rows(self._valued([after]))
            last[0] = rows[PAGE - 1]
            direct_pages.append([row.id for row in rows[:PAGE]])
            return elapsed

        return measure(NEXT_PAGE, http, direct, self.config)

    def _ids(self, count: int, salt: int) -> list[int]:
        return random.Random(benchdata.SEED + salt).sample(range(1, self.data.rows + 1), count)

    def _get(self) -> dict[str, Any]:
        n = self.config.warmups + self.config.repeats
        ids = self._ids(2 * n, 1)
        t = self.table

        def http(i: int) -> float:
            return self._http_get(f"{self.base}/{ids[2 * i]}")[0]

        def direct(i: int) -> float:
            return self._direct_rows(sa.select(*self.cols).where(t.c.id == ids[2 * i + 1]))[0]

        return measure(GET, http, direct, self.config)

    def _update(self) -> dict[str, Any]:
        n = self.config.warmups + self.config.repeats
        ids = self._ids(2 * n, 2)  # distinct records, each still at version 1
        t, qty = self.table, self.col("qty")
        user_id = self.data.user_id

        def http(i: int) -> float:
            started = time.perf_counter()
            response = self.client.request(
                "PATCH", f"{self.base}/{ids[2 * i]}", json_body={"qty": i + 1},
                headers={"If-Match": '"1"'},
            )
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"PATCH: HTTP {response.status_code} {response.text[:500]}")
            return elapsed

        def direct(i: int) -> float:
            record_id = ids[2 * i + 1]
            started = time.perf_counter()
            with db.write(self.engine) as conn:
                done = conn.execute(
                    sa.update(t)
                    .where(t.c.id == record_id, t.c.version == 1)
                    .values(
                        {qty: i + 1, t.c.version: t.c.version + 1,
                         t.c.updated_at: dt.datetime.now(dt.UTC), t.c.updated_by: user_id}
                    )
                )
                if done.rowcount != 1:
                    raise RuntimeError(f"direct update of {record_id} changed {done.rowcount}")
                conn.execute(sa.select(*self.cols).where(t.c.id == record_id)).one()
            return time.perf_counter() - started

        return measure(UPDATE, http, direct, self.config)

    def fractions(self) -> dict[str, float]:
        """How many rows the contains filter and the quick search match (a sanity check)."""
        with self.engine.connect() as conn:
            def share(cond: sa.ColumnElement[bool]) -> float:
                found = conn.execute(
                    sa.select(sa.func.count()).select_from(self.table).where(cond)
                ).scalar_one()
                return round(found / self.data.rows, 4)

            return {
                "contains": share(self._contains(self.col("name"), benchdata.CONTAINS_WORD)),
                "search": share(sa.or_(*(self._contains(c, benchdata.SEARCH_WORD)
                                         for c in self.searchable))),
            }

    def explain(self) -> dict[str, str]:
        """The database's plan for the indexed sort: does it walk the index?"""
        stmt = self._valued([])
        prefix = "EXPLAIN QUERY PLAN " if self.dialect == "sqlite" else "EXPLAIN "
        with self.engine.connect() as conn:
            sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
            lines = conn.exec_driver_sql(prefix + sql).all()
        text = " | ".join(str(row[-1]).strip() for row in lines)
        return {SORT_INDEXED: text}


def db_cpu_seconds(pg: PgCluster | None) -> float:
    """CPU used so far by the throwaway PostgreSQL cluster (0 for SQLite or an external one)."""
    if pg is None or pg.data_dir is None:
        return 0.0
    try:
        postmaster = int((pg.data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return cpu_seconds(process_tree(postmaster))


def _ids_of(response: Answer) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


def run_one(
    backend: str, size: int, config: Config, workdir: Path, pg: PgCluster | None
) -> dict[str, Any]:
    log(f"\n== {backend}, {size:,} rows")
    if backend == "sqlite":
        url = f"sqlite:///{workdir / f'bench_{size}.sqlite3'}"
    else:
        assert pg is not None
        url = pg.create_database(f"rb_bench_{size}")
    try:
        log("  loading")
        dataset = benchdata.load(url, size, log=log)
        log(f"  loaded in {dataset.load_seconds:.1f} s, indexes {dataset.index_seconds:.1f} s, "
            f"analyze {dataset.analyze_seconds:.1f} s")
        loadavg_start = os.getloadavg()[0]
        with Server(url, workdir / f"server-{backend}-{size}.log",
                    workers=config.workers, threads=config.threads) as server:
            bench = Bench(dataset, server, config)
            try:
                rows = bench.run(functools.partial(
                    Server, url, workdir / f"floor-page-{backend}-{size}.log",
                    workers=config.workers, threads=config.threads, app="page",
                ))
                log(f"  {config.clients} concurrent clients on the first page, {config.load_s} s")
                cpu_before = server.cpu_seconds(), db_cpu_seconds(pg)
                load = run_load(server.base_url, f"{bench.base}?limit={PAGE}", bench.token,
                                clients=config.clients, threads=config.client_threads,
                                seconds=config.load_s, workdir=workdir)
                cpu = {
                    "server_s": server.cpu_seconds() - cpu_before[0],
                    "database_s": db_cpu_seconds(pg) - cpu_before[1],
                    "client_s": load.client_cpu_s,
                }
                fractions = bench.fractions()
                plans = bench.explain()
            finally:
                bench.close()
        return {
            "backend": backend,
            "rows": size,
            "load": {"rows_s": round(dataset.load_seconds, 1),
                     "indexes_s": round(dataset.index_seconds, 1),
                     "analyze_s": round(dataset.analyze_seconds, 1)},
            "match_fraction": fractions,
            "measurements": rows,
            "concurrent": benchreport.load_summary(load, cpu),
            "memory": server.memory.as_json(),
            # the machine is shared: how busy it was (1-minute load average, start and end)
            "loadavg": f"{loadavg_start:.1f} → {os.getloadavg()[0]:.1f}",
            "plans": plans,
        }
    finally:
        if backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(str(workdir / f"bench_{size}.sqlite3") + suffix).unlink(missing_ok=True)
        elif pg is not None:
            pg.drop_database(f"rb_bench_{size}")


def framework_floors(config: Config, workdir: Path) -> list[dict[str, Any]]:
    """The platform's floor request answered by a bare WSGI function and by a one-route
    Flask app, with the same gunicorn settings and client (see ``floorapps``)."""
    out = []
    for app, name in (("bare", benchreport.FLOOR_WSGI), ("flask", benchreport.FLOOR_FLASK)):
        log(f"  {name}")
        with Server("", workdir / f"floor-{app}.log", workers=config.workers,
                    threads=config.threads, app=app) as server:
            client = Client(server.base_url)

            def http(_i: int, client: Client = client) -> float:
                started = time.perf_counter()
                response = client.get(f"/api/v1/records/{benchdata.ITEMS}/1")
                elapsed = time.perf_counter() - started
                if response.status_code != 401:
                    raise RuntimeError(f"floor app answered {response.status_code}")
                return elapsed

            try:
                out.append(measure(name, http, None, config))
            finally:
                client.close()
    return out


def environment(pg: PgCluster | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sa.__version__,
        "machine": platform.machine(),
    }
    try:
        info["commit"] = os.environ.get("RECORDBASE_BENCH_COMMIT") or subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
            check=False, timeout=10,
        ).stdout.strip()
    except OSError:
        info["commit"] = ""
    if pg is not None:
        engine = sa.create_engine(pg.url)
        try:
            with engine.connect() as conn:
                info["postgresql"] = conn.exec_driver_sql("SHOW server_version").scalar()
        finally:
            engine.dispose()
    return info


def main() -> int:
    config = Config.from_environment()
    started = time.monotonic()
    log(f"sizes {list(config.sizes)}, backends {list(config.backends)}, "
        f"{config.repeats} timed requests after {config.warmups} warm-ups per measurement")
    workdir = Path(tempfile.mkdtemp(prefix="recordbase-bench-"))
    pg: PgCluster | None = None
    runs: list[dict[str, Any]] = []
    floors: list[dict[str, Any]] = []
    try:
        if "postgresql" in config.backends:
            pg = PgCluster.from_environment()
            pg.start()
        env = environment(pg)
        log("\n== framework floors")
        floors = framework_floors(config, workdir)
        for backend in config.backends:
            for size in config.sizes:
                runs.append(run_one(backend, size, config, workdir,
                                    pg if backend == "postgresql" else None))
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report = benchreport.build(
        runs, config_json(config), env, time.monotonic() - started, floors
    )
    print(benchreport.render(report), flush=True)
    config.json_path.parent.mkdir(parents=True, exist_ok=True)
    config.json_path.write_text(benchreport.to_json(report), encoding="utf-8")
    log(f"JSON results: {config.json_path}")
    return 0


def config_json(config: Config) -> dict[str, Any]:
    return {
        "sizes": list(config.sizes),
        "backends": list(config.backends),
        "repeats": config.repeats,
        "warmups": config.warmups,
        "budget_s": config.budget_s,
        "load_s": config.load_s,
        "clients": config.clients,
        "client_threads": config.client_threads,
        "workers": config.workers,
        "threads": config.threads,
    }


if __name__ == "__main__":
    sys.exit(main())
