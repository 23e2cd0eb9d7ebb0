"""A throwaway PostgreSQL 15 cluster for the test suite.

``PgCluster().start()`` runs ``initdb`` into a fresh temporary directory, starts the
server on a free loopback port with durability switched off (it is thrown away),
and waits until it accepts connections. ``stop()`` shuts it down immediately and
removes the directory; it is also registered with :mod:`atexit`, so a crashed
test session does not leave a server behind.

When ``RECORDBASE_TEST_PG_URL`` is set (an SQLAlchemy URL such as
``postgresql+psycopg://user:secret@db.example:5432/postgres``), that server is used
instead: nothing is started or stopped, and only the databases created through
this object are dropped.

PostgreSQL refuses to run as root, so when we are root every server binary runs as
the ``postgres`` user through ``runuser`` and the directory is handed to that user.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

ENV_URL = "RECORDBASE_TEST_PG_URL"
ENV_BINDIR = "RECORDBASE_TEST_PG_BINDIR"
DEFAULT_BINDIR = Path("/usr/lib/postgresql/15/bin")
SERVER_USER = "postgres"
START_ATTEMPTS = 3
READY_TIMEOUT_S = 60.0

_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# Appended to postgresql.conf; later lines win over initdb's defaults.
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    # The cluster is thrown away: no durability, more speed.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "logging_collector": "off",
}

# Trust, and only on loopback (the server listens on nothing else either).
_PG_HBA = """\
# Written by tests/support/pgcluster.py: a throwaway test cluster.
local   all   all                 trust
host    all   all   127.0.0.1/32  trust
"""


class PgClusterError(RuntimeError):
    """Raised when the test PostgreSQL server cannot be started or used."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _is_root() -> bool:
    return os.geteuid() == 0


class PgCluster:
    """One PostgreSQL server for tests: a local throwaway cluster or an external one."""

    def __init__(self, *, bindir: Path | None = None, external_url: str | None = None) -> None:
        self.bindir = bindir or Path(os.environ.get(ENV_BINDIR) or DEFAULT_BINDIR)
        self._external = make_url(external_url) if external_url else None
        self._base_dir: Path | None = None
        self._port: int | None = None
        self._running = False

    @classmethod
    def from_environment(cls) -> PgCluster:
        """Use ``RECORDBASE_TEST_PG_URL`` when it is set, else a local throwaway cluster."""
        return cls(external_url=os.environ.get(ENV_URL) or None)

    # --- properties ------------------------------------------------------------------

    @property
    def is_external(self) -> bool:
        return self._external is not None

    @property
    def base_dir(self) -> Path | None:
        """The temporary directory holding data, socket and log (None when external)."""
        return self._base_dir

    @property
    def data_dir(self) -> Path | None:
        return self._base_dir / "data" if self._base_dir else None

    @property
    def log_file(self) -> Path | None:
        return self._base_dir / "server.log" if self._base_dir else None

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the maintenance database (``postgres``)."""
        return self._url().render_as_string(hide_password=False)

    def url_for(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return self._url().set(database=database).render_as_string(hide_password=False)

    def _url(self) -> URL:
        if self._external is not None:
            return self._external
        if not self._running or self._port is None:
            raise PgClusterError("the test PostgreSQL cluster is not running: call start() first")
        return URL.create(
            "postgresql+psycopg",
            username=SERVER_USER,
            host="127.0.0.1",
            port=self._port,
            database="postgres",
        )

    # --- life cycle ------------------------------------------------------------------

    def start(self) -> None:
        """Start the cluster (no-op when external or already running)."""
        if self._external is not None or self._running:
            return
        for tool in ("initdb", "pg_ctl", "pg_isready"):
            if not (self.bindir / tool).is_file():
                raise PgClusterError(
                    f"PostgreSQL 15 is not installed: {self.bindir / tool} is missing. "
                    "Install the Debian package postgresql-15 (make test does when run as "
                    f"root), set {ENV_BINDIR} to its bin directory, or set {ENV_URL} to a "
                    "server's SQLAlchemy URL."
                )
        atexit.register(self.stop)
        try:
            self._init_directory()
            self._start_server()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Shut the server down immediately and remove its directory. Idempotent."""
        atexit.unregister(self.stop)
        base_dir, self._base_dir = self._base_dir, None
        if base_dir is None:
            return
        data_dir = base_dir / "data"
        if self._running or (data_dir / "postmaster.pid").exists():
            self._run(
                [str(self.bindir / "pg_ctl"), "stop", "-D", str(data_dir), "-m", "immediate",
                 "-w", "-t", "30"],
                cwd=base_dir,
                check=False,
            )
            self._kill_leftover(data_dir)
        self._running = False
        self._port = None
        shutil.rmtree(base_dir, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- databases -------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """Create an empty database (dropping a leftover of that name); return its URL."""
        self.drop_database(name)
        self._execute_admin([f"CREATE DATABASE {self._quote(name)}"])
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting its sessions first. Missing is fine."""
        self._execute_admin([f"DROP DATABASE IF EXISTS {self._quote(name)} WITH (FORCE)"])

    def reset_database(self, name: str) -> None:
        """Empty a database: end its other sessions, drop and recreate schema ``public``."""
        engine = sa.create_engine(
            self.url_for(name), poolclass=NullPool, isolation_level="AUTOCOMMIT"
        )
        try:
            with engine.connect() as conn:
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        finally:
            engine.dispose()

    def _execute_admin(self, statements: Sequence[str]) -> None:
        engine = sa.create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.execute(sa.text(statement))
        finally:
            engine.dispose()

    @staticmethod
    def _quote(name: str) -> str:
        # Test code picks these names; still, never put an unchecked name into SQL.
        if not _DATABASE_NAME.match(name):
            raise ValueError(f"invalid test database name {name!r}: use [a-z_][a-z0-9_]*")
        return f'"{name}"'

    # --- internals -------------------------------------------------------------------

    def _init_directory(self) -> None:
        base_dir = Path(tempfile.mkdtemp(prefix="recordbase-pg-"))
        self._base_dir = base_dir
        (base_dir / "socket").mkdir()
        if _is_root():
            for path in (base_dir, base_dir / "socket"):
                shutil.chown(path, user=SERVER_USER, group=SERVER_USER)
        data_dir = base_dir / "data"
        self._run(
            [str(self.bindir / "initdb"), "-D", str(data_dir), "-U", SERVER_USER,
             "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            cwd=base_dir,
            what="initdb",
        )
        # Opening existing files keeps their owner (postgres), so root may edit them.
        with (data_dir / "pg_hba.conf").open("w", encoding="utf-8") as hba:
            hba.write(_PG_HBA)

    def _start_server(self) -> None:
        assert self._base_dir is not None
        base_dir, data_dir = self._base_dir, self._base_dir / "data"
        conf = data_dir / "postgresql.conf"
        original_conf = conf.read_text(encoding="utf-8")
        failure = ""
        for _attempt in range(START_ATTEMPTS):
            # Another process may take the free port before the server binds it: retry.
            port = _free_port()
            settings = {
                **_SETTINGS,
                "port": str(port),
                "unix_socket_directories": f"'{base_dir / 'socket'}'",
            }
            with conf.open("w", encoding="utf-8") as out:
                out.write(original_conf)
                out.write("\n# recordbase test cluster\n")
                out.writelines(f"{key} = {value}\n" for key, value in settings.items())
            result = self._run(
                [str(self.bindir / "pg_ctl"), "start", "-D", str(data_dir),
                 "-l", str(base_dir / "server.log"), "-w", "-t", str(int(READY_TIMEOUT_S))],
                cwd=base_dir,
                check=False,
            )
            if result.returncode == 0:
                self._port = port
                self._running = True
                self._wait_ready()
                return
            failure = f"pg_ctl start exited {result.returncode}: {result.stdout.strip()}"
            self._kill_leftover(data_dir)
            if "Address already in use" not in self._log_tail():
                break
        raise PgClusterError(
            f"could not start the test PostgreSQL server in {data_dir}.\n{failure}\n"
            f"--- server log ---\n{self._log_tail()}"
        )

    def _wait_ready(self) -> None:
        assert self._port is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            result = self._run(
                [str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p",
                 str(self._port), "-U", SERVER_USER, "-d", "postgres"],
                check=False,
            )
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise PgClusterError(
                    f"the test PostgreSQL server on 127.0.0.1:{self._port} did not become "
                    f"ready within {READY_TIMEOUT_S:.0f}s.\n--- server log ---\n"
                    f"{self._log_tail()}"
                )
            time.sleep(0.1)

    def _kill_leftover(self, data_dir: Path) -> None:
        """SIGQUIT (immediate shutdown) a postmaster that pg_ctl failed to stop."""
        pid_file = data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text(encoding="utf-8").splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGQUIT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                time.sleep(0.05)
            os.kill(pid, signal.SIGKILL)

    def _log_tail(self, lines: int = 40) -> str:
        log = self.log_file
        if log is None or not log.exists():
            return "(no server log)"
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def _run(
        self,
        argv: list[str],
        *,
        cwd: Path | None = None,
        check: bool = True,
        what: str = "",
    ) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL binary, as ``postgres`` when we are root."""
        if _is_root():
            runuser = shutil.which("runuser") or "/usr/sbin/runuser"
            argv = [runuser, "-u", SERVER_USER, "--", *argv]
        result = subprocess.run(
            argv,
            cwd=cwd or tempfile.gettempdir(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise PgClusterError(
                f"{what or argv[0]} failed with exit code {result.returncode}:\n{result.stdout}"
            )
        return result
