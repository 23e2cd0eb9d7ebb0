"""The test harness itself: fresh databases on both backends, the PostgreSQL cluster."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from support.pgcluster import PgCluster, PgClusterError


def _table_names(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_db_url_is_a_usable_empty_database(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
        metadata = sa.MetaData()
        probe = sa.Table(
            "probe",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(50), nullable=False),
        )
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.insert(probe), [{"name": "Ärger"}, {"name": "клиент"}])
        with engine.connect() as conn:
            rows = conn.execute(sa.select(probe.c.name).order_by(probe.c.id)).scalars().all()
            if engine.dialect.name == "postgresql":
                assert engine.dialect.server_version_info is not None
                assert engine.dialect.server_version_info[0] == 15
                encoding = conn.execute(sa.text("SHOW server_encoding")).scalar_one()
                assert encoding == "UTF8"
        assert rows == ["Ärger", "клиент"]
    finally:
        engine.dispose()


# Each round finds the database empty and leaves a table behind. With at most two
# xdist workers, two of the three rounds on a backend share a worker, and so the
# worker's PostgreSQL database: the later round proves it was emptied in between.
@pytest.mark.parametrize("round_no", [1, 2, 3])
def test_db_url_is_fresh_even_after_a_test_left_a_table(db_url: str, round_no: int) -> None:
    assert _table_names(db_url) == []
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE leftover (round_no INTEGER PRIMARY KEY)"))
            conn.execute(sa.text("INSERT INTO leftover (round_no) VALUES (:n)"), {"n": round_no})
    finally:
        engine.dispose()
    assert _table_names(db_url) == ["leftover"]


def test_reset_empties_the_database_and_ends_other_sessions(
    pg_cluster: PgCluster, pg_url: str, pg_database: str
) -> None:
    engine = sa.create_engine(pg_url)
    try:
        idle = engine.connect()  # left open on purpose: the reset must not wait for it
        idle.execute(sa.text("CREATE TABLE t (id INTEGER)"))
        idle.commit()
        pg_cluster.reset_database(pg_database)
        assert _table_names(pg_url) == []
        with pytest.raises(sa.exc.OperationalError):
            idle.execute(sa.text("SELECT 1"))
        idle.close()
    finally:
        engine.dispose()


def test_pg_cluster_listens_on_loopback_only(pg_cluster: PgCluster) -> None:
    if pg_cluster.is_external:
        pytest.skip("RECORDBASE_TEST_PG_URL points at an external server")
    engine = sa.create_engine(pg_cluster.url)
    try:
        with engine.connect() as conn:
            result = conn.execute(
                sa.text(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('listen_addresses', 'fsync', 'max_connections')"
                )
            )
            settings = {str(name): str(setting) for name, setting in result}
    finally:
        engine.dispose()
    assert settings == {"listen_addresses": "127.0.0.1", "fsync": "off", "max_connections": "200"}


def test_stop_removes_the_server_and_its_directory(pg_cluster: PgCluster) -> None:
    # A second, private cluster: the session's one must keep running.
    cluster = PgCluster(bindir=pg_cluster.bindir)
    with cluster:
        url = cluster.create_database("rb_stop_probe")
        assert _table_names(url) == []
        base_dir = cluster.base_dir
        assert base_dir is not None
        pid_file = base_dir / "data" / "postmaster.pid"
        pid = int(pid_file.read_text(encoding="utf-8").splitlines()[0])
    assert not base_dir.exists()
    assert not _is_postgres_process(pid)
    with pytest.raises(PgClusterError, match="not running"):
        _ = cluster.url


def test_missing_binaries_fail_with_a_clear_message(tmp_path: Path) -> None:
    cluster = PgCluster(bindir=tmp_path)
    with pytest.raises(PgClusterError, match="PostgreSQL 15 is not installed"):
        cluster.start()


def _is_postgres_process(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"postgres" in cmdline


def test_artifacts_dir_exists(artifacts_dir: Path) -> None:
    assert artifacts_dir.is_dir()
    assert artifacts_dir.name == "artifacts"
    assert os.access(artifacts_dir, os.W_OK)
