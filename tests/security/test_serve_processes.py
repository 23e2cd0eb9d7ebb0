"""Two real `recordbase serve` processes (gunicorn, two workers each) on one PostgreSQL
database share the licence's seats."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.security.conftest import PASSWORD, VendorKeys

from recordbase import db, systables
from recordbase.runtime import create_system_tables, make_runtime
from recordbase.sessions import SESSION_IDLE

pytestmark = pytest.mark.slow
START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    code = "import sys; from recordbase.cli import main; sys.exit(main())"
    return subprocess.Popen(
        [sys.executable, "-c", code, "--database", url, "serve", "--port", str(port),
         "--workers", "2", "--threads", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"recordbase serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/api/v1/license", timeout=2).status_code == 401:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"recordbase serve did not answer at {base}")


@pytest.fixture
def two_servers(pg_url: str, vendor: VendorKeys) -> Iterator[tuple[str, list[str]]]:
    rt = make_runtime(pg_url, hash_profile="cheapest")
    try:
        create_system_tables(rt.engine)
        for login in ("u1", "u2", "u3", "u4"):
            rt.users.create(login, PASSWORD)
        # simple: 3 seats, 3 users; u4 was created in the demo, is beyond the cap now
        rt.licence.install(vendor.issue("simple"))
    finally:
        rt.dispose()
    ports = [_free_port(), _free_port()]
    procs = [_serve(pg_url, port) for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, proc in zip(bases, procs, strict=True):
            _wait_up(base, proc)
        yield pg_url, bases
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _sign_in(base: str, login: str) -> Any:
    return httpx.post(
        f"{base}/api/v1/auth/token", json={"username": login, "password": PASSWORD}, timeout=30
    )


def test_the_fourth_sign_in_is_refused_by_either_server(
    two_servers: tuple[str, list[str]],
) -> None:
    url, (one, two) = two_servers
    tokens = []
    for base, login in ((one, "u1"), (two, "u2"), (one, "u3")):
        response = _sign_in(base, login)
        assert response.status_code == 201, response.text
        tokens.append((base, response.json()["token"]))
    for base in (one, two):
        refused = _sign_in(base, "u1")
        assert refused.status_code == 403
        assert "All 3 seats of the simple tier" in refused.json()["detail"]
    # a token from one server works on the other: the same session, not a new seat
    headers = {"Authorization": f"Bearer {tokens[0][1]}"}
    status = httpx.get(f"{two}/api/v1/license", headers=headers, timeout=30).json()
    assert (status["seats"], status["seats_used"]) == (3, 3)
    # signing out through one server frees a seat for the other
    assert httpx.delete(f"{two}/api/v1/auth/token", headers=headers, timeout=30).status_code == 204
    assert httpx.get(f"{one}/api/v1/license", headers=headers, timeout=30).status_code == 401
    assert _sign_in(two, "u1").status_code == 201
    assert _sign_in(one, "u1").status_code == 403
    # an expired session frees its seat too; each server start was one launch
    engine = db.make_engine(url)
    try:
        with db.read(engine) as conn:
            launches = conn.execute(sa.select(systables.licence.c.launches)).scalar_one()
        assert launches == 2
        s = systables.sessions
        with db.write(engine) as conn:
            oldest = conn.execute(
                sa.select(sa.func.min(s.c.id)).where(s.c.ended_at.is_(None))
            ).scalar_one()
            conn.execute(
                sa.update(s)
                .where(s.c.id == oldest)
                .values(last_seen=systables.utcnow() - SESSION_IDLE - dt.timedelta(seconds=5))
            )
    finally:
        engine.dispose()
    assert _sign_in(one, "u2").status_code == 201
    # u4 is beyond the tier's 3 users: refused with the reason, whatever the seats
    beyond = _sign_in(two, "u4")
    assert beyond.status_code == 403
    assert "beyond" in beyond.json()["detail"]
