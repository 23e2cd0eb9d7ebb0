"""A real ``recordbase serve`` (gunicorn) for the benchmark, and its memory, read from /proc.

The server runs as a subprocess in its own process group, bound to 127.0.0.1 on a
free port; ``stop()`` sends SIGTERM to the master, waits, and SIGKILLs the group
(only the group this module started) if it is still there. A sampler thread sums
the resident memory of the master and its workers while the server runs.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
SAMPLE_INTERVAL_S = 0.1


class Answer:
    """An HTTP answer read whole: status, headers and body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code = status
        self.headers = headers
        self.content = body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Client:
    """One keep-alive HTTP/1.1 connection on the standard library's ``http.client``.

    The timed requests go through this rather than httpx: httpx spends 0.5-0.7 ms of
    client time per request on this machine, which would be counted as the server's.
    """

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60) -> None:
        host, _, port = base_url.removeprefix("http://").partition(":")
        self.conn = http.client.HTTPConnection(host, int(port or 80), timeout=timeout)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(
        self, method: str, path: str, *, params: dict[str, str] | None = None,
        json_body: Any = None, headers: dict[str, str] | None = None,
    ) -> Answer:
        if params:
            path = f"{path}?{urlencode(params)}"
        sent = {**self.headers, **(headers or {})}
        sent = {k: v for k, v in sent.items() if v}
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        self.conn.request(method, path, body=body, headers=sent)
        response = self.conn.getresponse()
        content = response.read()
        return Answer(response.status, dict(response.getheaders()), content)

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def close(self) -> None:
        self.conn.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def recordbase_command() -> list[str]:
    """The venv's ``recordbase`` script (next to the running interpreter)."""
    script = Path(sys.executable).with_name("recordbase")
    if not script.exists():
        raise RuntimeError(f"{script} is missing: run `make venv` first")
    return [str(script)]


# --- /proc ------------------------------------------------------------------------------


def _status_kb(pid: int, key: str) -> int:
    """A ``Vm*`` line of /proc/<pid>/status in kB (0 when the process is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared (copy-on-write) pages split between the processes."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (scanning /proc for parent ids)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (gone ones count 0)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / ticks


@dataclass
class MemoryReport:
    samples: int = 0
    peak_rss_sum_kb: int = 0  # the largest sum of VmRSS seen in one sample
    peak_pss_sum_kb: int = 0  # the same with PSS (shared pages counted once)
    hwm_sum_kb: int = 0  # sum over processes of their own peak (VmHWM): an upper bound
    processes: int = 0
    per_process_hwm_kb: dict[int, int] = field(default_factory=dict)
    last_rss_sum_kb: int = 0  # the last sample: the steady state after the run
    peak_at_s: float = 0.0  # seconds after the server answered
    peak_split_kb: list[int] = field(default_factory=list)  # master first, then workers

    def as_json(self) -> dict[str, object]:
        return {
            "samples": self.samples,
            "peak_rss_sum_mb": round(self.peak_rss_sum_kb / 1024, 1),
            "peak_pss_sum_mb": round(self.peak_pss_sum_kb / 1024, 1),
            "vmhwm_sum_mb": round(self.hwm_sum_kb / 1024, 1),
            "processes": self.processes,
            "last_rss_sum_mb": round(self.last_rss_sum_kb / 1024, 1),
            "peak_at_s": round(self.peak_at_s, 1),
            "peak_split_mb": [round(kb / 1024, 1) for kb in self.peak_split_kb],
        }


class MemorySampler:
    """Polls the server's process tree every 100 ms until stopped."""

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        self.report = MemoryReport()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._pss_every = 10  # smaps_rollup costs more: read it every 10th sample
        self._started = time.monotonic()

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            self.sample(with_pss=n % self._pss_every == 0)
            n += 1
            self._stop.wait(SAMPLE_INTERVAL_S)

    def sample(self, *, with_pss: bool) -> None:
        pids = process_tree(self.root_pid)
        split = [_status_kb(pid, "VmRSS") for pid in pids]
        rss = sum(split)
        report = self.report
        report.samples += 1
        report.last_rss_sum_kb = rss
        if rss > report.peak_rss_sum_kb:
            report.peak_rss_sum_kb = rss
            report.peak_at_s = time.monotonic() - self._started
            report.peak_split_kb = split
        if with_pss:
            report.peak_pss_sum_kb = max(report.peak_pss_sum_kb, sum(_pss_kb(p) for p in pids))
        for pid in pids:
            hwm = _status_kb(pid, "VmHWM")
            if hwm:
                report.per_process_hwm_kb[pid] = max(report.per_process_hwm_kb.get(pid, 0), hwm)
        report.hwm_sum_kb = sum(report.per_process_hwm_kb.values())
        report.processes = max(report.processes, len(pids))

    def stop(self) -> MemoryReport:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.report


# --- the server -------------------------------------------------------------------------


class Server:
    """``recordbase --database URL serve`` on 127.0.0.1:<free port>, stopped on exit.

    With ``app`` (a name in ``floorapps``: "bare", "flask" or "page") it serves that WSGI
    application instead, with gunicorn and the options ``recordbase serve`` gives it (the
    page app reads the database at ``database_url``).
    """

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        *,
        workers: int = 2,
        threads: int = 4,
        app: str | None = None,
    ) -> None:
        self.database_url = database_url
        self.app = app
        self.log_path = log_path
        self.workers = workers
        self.threads = threads
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.sampler: MemorySampler | None = None
        self.memory = MemoryReport()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        for _attempt in range(3):
            self.port = free_port()
            argv = self._command()
            with self.log_path.open("ab") as log:
                self.proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: stop() kills only that
                )
            try:
                self._wait_ready()
            except _PortTaken:
                self.stop()
                continue
            except BaseException:
                self.stop()
                raise
            self.sampler = MemorySampler(self.proc.pid)
            self.sampler.start()
            return
        raise RuntimeError("could not start the server: the free port was taken three times")

    def _command(self) -> list[str]:
        if self.app is None:
            return [
                *recordbase_command(),
                "--database", self.database_url,
                "serve",
                "--host", "127.0.0.1",
                "--port", str(self.port),
                "--workers", str(self.workers),
                "--threads", str(self.threads),
            ]  # fmt: skip
        launcher = Path(__file__).with_name("floorapps.py")
        return [sys.executable, str(launcher), self.app, str(self.port), str(self.workers),
                str(self.threads), *([self.database_url] if self.database_url else [])]

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_tail()
                if "Address already in use" in tail:
                    raise _PortTaken
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{tail}")
            try:
                # a 404 problem document is enough: the app answers
                httpx.get(f"{self.base_url}/api/v1/records/none", timeout=2.0)
            except httpx.HTTPError:
                time.sleep(0.1)
                continue
            if len(process_tree(self.proc.pid)) >= self.workers + 1:
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"the server did not answer within {READY_TIMEOUT_S:.0f} s:\n{self.log_tail()}"
        )

    def cpu_seconds(self) -> float:
        """CPU time used so far by the master and its workers."""
        assert self.proc is not None
        return cpu_seconds(process_tree(self.proc.pid))

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        return [p for p in process_tree(self.proc.pid) if p != self.proc.pid]

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.sample(with_pss=True)
            self.memory = self.sampler.stop()
            self.sampler = None
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of the workers
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_TIMEOUT_S)
        # anything left in the group this module created (workers of a stuck master)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


class _PortTaken(Exception):
    pass
