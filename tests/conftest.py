"""Shared fixtures.

Databases: request ``db_url`` and the test runs once per backend (ids ``sqlite`` and
``postgresql``), each time on a fresh, empty database; ``--db`` restricts the
backends. ``sqlite_url`` and ``pg_url`` give one backend only. The PostgreSQL
server (``pg_cluster``) starts on first use, one per xdist worker, and is stopped
at the end of the session, or at exit if the session dies.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from recordbase.app import create_app
from recordbase.runtime import Runtime, create_system_tables, make_runtime
from support.pgcluster import PgCluster

BACKENDS = ("sqlite", "postgresql")
# Fixtures that tie a test to one backend: deselected when --db excludes it.
_BACKEND_FIXTURES = {"sqlite": ("sqlite_url",), "postgresql": ("pg_url", "pg_cluster")}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=(*BACKENDS, "all"),
        default="all",
        help="database backend(s) to run database tests on (default: all)",
    )


def _selected_backends(config: pytest.Config) -> tuple[str, ...]:
    choice: str = config.getoption("db")
    return BACKENDS if choice == "all" else (choice,)


def _has_parametrize_marker(metafunc: pytest.Metafunc, argname: str) -> bool:
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if argname in names:
            return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A test may pick its own backends: @pytest.mark.parametrize("db_url", [...], indirect=True)
    if "db_url" in metafunc.fixturenames and not _has_parametrize_marker(metafunc, "db_url"):
        backends = _selected_backends(metafunc.config)
        metafunc.parametrize("db_url", backends, indirect=True, ids=list(backends))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    excluded = [
        name
        for backend, names in _BACKEND_FIXTURES.items()
        if backend not in _selected_backends(config)
        for name in names
    ]
    if not excluded:
        return
    deselected = [
        item
        for item in items
        if any(name in getattr(item, "fixturenames", ()) for name in excluded)
        and "db_url" not in getattr(item, "fixturenames", ())
    ]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """This worker's PostgreSQL server (or RECORDBASE_TEST_PG_URL's), started lazily."""
    cluster = PgCluster.from_environment()
    cluster.start()  # also registers cluster.stop with atexit
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_database(pg_cluster: PgCluster) -> Iterator[str]:
    """The name of this worker's test database; emptied before each test that uses it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    # The pid keeps concurrent runs against one external server apart.
    name = f"rb_test_{worker}_{os.getpid()}"
    pg_cluster.create_database(name)
    try:
        yield name
    finally:
        pg_cluster.drop_database(name)


@pytest.fixture
def pg_url(pg_cluster: PgCluster, pg_database: str) -> str:
    """A fresh, empty PostgreSQL database (schema ``public`` dropped and recreated)."""
    pg_cluster.reset_database(pg_database)
    return pg_cluster.url_for(pg_database)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, empty SQLite database file in the test's own temporary directory."""
    return f"sqlite:///{tmp_path / 'rb.sqlite3'}"


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on each backend in turn (ids: sqlite, postgresql)."""
    backend: str = request.param
    url: str = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    return url


@pytest.fixture(scope="session")
def artifacts_dir(pytestconfig: pytest.Config) -> Path:
    """``artifacts/`` at the repository root (screenshots, reports); gitignored."""
    path = pytestconfig.rootpath / "artifacts"
    path.mkdir(exist_ok=True)
    return path


# --- the application ---------------------------------------------------------------

ADMIN_PASSWORD = "admin-password-123"
USER_PASSWORD = "user-password-123"


@pytest.fixture
def runtime(db_url: str) -> Iterator[Runtime]:
    """Services on a fresh database with the system tables (no entities yet)."""
    rt = make_runtime(db_url, hash_profile="cheapest")
    create_system_tables(rt.engine)
    try:
        yield rt
    finally:
        rt.dispose()


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    application = create_app(
        {"DATABASE_URL": db_url, "TESTING": True, "PASSWORD_HASH_PROFILE": "cheapest"}
    )
    rt: Runtime = application.extensions["recordbase"]
    create_system_tables(rt.engine)
    rt.users.create("admin", ADMIN_PASSWORD, role="admin", name="Ada Admin")
    rt.users.create("user", USER_PASSWORD, role="user", name="Ulla User")
    try:
        yield application
    finally:
        rt.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _token(client: FlaskClient, login: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": login, "password": password})
    assert response.status_code == 201, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


@pytest.fixture
def admin(client: FlaskClient) -> dict[str, str]:
    """Headers of a signed-in administrator."""
    return _token(client, "admin", ADMIN_PASSWORD)


@pytest.fixture
def user(client: FlaskClient) -> dict[str, str]:
    """Headers of a signed-in ordinary user."""
    return _token(client, "user", USER_PASSWORD)
