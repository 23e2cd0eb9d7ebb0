"""The walls of the print worker process: resource limits and an audit hook.

The sandbox keeps template code away from Python; these keep the *libraries* a
render drives (Jinja, xhtml2pdf, ReportLab, Pillow, docxtpl) away from anything
but the job in hand, whatever markup reaches them:

- ``RLIMIT_AS`` / ``RLIMIT_CPU`` / ``RLIMIT_FSIZE``: a runaway render runs out of
  memory (a ``MemoryError`` the worker reports), of processor time, or of file
  size, instead of taking the machine with it; the parent kills it at the deadline;
- an audit hook (PEP 578), installed in the worker only and never removable:
  no socket is created or connected and no name resolved, no process started,
  no ``ctypes``; files are opened for reading only inside the Python installation
  (lazy imports), the font directory and the worker's own temporary directory,
  and written only in the latter. Everything else raises ``PermissionError``,
  which the libraries treat as a missing resource, and is recorded.

The worker is a fresh process per job (forked from a warmed-up server), so the
hook and the limits end with it.
"""

from __future__ import annotations

import os
import resource
import sys
import sysconfig
from collections.abc import Iterable
from typing import Any

#: events refused outright, whatever their arguments
BLOCKED_EVENTS = frozenset(
    {
        "socket.__new__",
        "socket.bind",
        "socket.connect",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
        "socket.sendmsg",
        "socket.sendto",
        "urllib.Request",
        "http.client.connect",
        "ftplib.connect",
        "smtplib.connect",
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.startfile",
        "pty.spawn",
        "os.kill",
        "os.killpg",
        "webbrowser.open",
        "sys.remote_exec",
        "sys.addaudithook",
    }
)
#: events that read a directory: allowed where reading is
LISTING_EVENTS = frozenset({"os.listdir", "os.scandir", "glob.glob", "os.chdir"})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class Walls:
    """The paths a worker may touch, and what it was refused (for the job's report)."""

    def __init__(self, read_roots: Iterable[str], scratch: str) -> None:
        self.read_roots = tuple(os.path.realpath(r) for r in read_roots if r)
        self.scratch = os.path.realpath(scratch)
        self.refused: list[str] = []

    def _inside(self, path: str, roots: tuple[str, ...]) -> bool:
        return any(path == root or path.startswith(root + os.sep) for root in roots)

    def check_open(self, path: Any, mode: Any, flags: Any) -> None:
        if path is None or isinstance(path, int):
            return  # an already open descriptor
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            self._refuse(f"open {path!r}")
        if self._inside(real, (self.scratch,)):
            return
        writing = (isinstance(flags, int) and flags & WRITE_FLAGS) or (
            isinstance(mode, str) and any(ch in mode for ch in "wax+")
        )
        if not writing and (real == os.devnull or self._inside(real, self.read_roots)):
            return
        self._refuse(f"open {real}")

    def _refuse(self, what: str) -> None:
        if len(self.refused) < 100:
            self.refused.append(what)
        raise PermissionError(f"A print may not {what}.")

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            self.check_open(*args[:3])
        elif event in LISTING_EVENTS:
            self.check_open(args[0] if args and args[0] is not None else ".", "r", 0)
        elif event in BLOCKED_EVENTS or event.startswith("ctypes."):
            self._refuse(event)


def python_roots() -> list[str]:
    """Where Python may lazily import modules from: the standard library, site-packages
    and this package (not the rest of ``sys.path``, which may be a source checkout)."""
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return sorted(roots)


def set_limits(memory_bytes: int, cpu_seconds: int, file_bytes: int) -> None:
    """Hard limits for this process (lowering only: a limit cannot be raised back)."""
    for limit, value in (
        (resource.RLIMIT_AS, memory_bytes),
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_FSIZE, file_bytes),
        (resource.RLIMIT_CORE, 0),
    ):
        _soft, hard = resource.getrlimit(limit)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(limit, (value, value if limit != resource.RLIMIT_CPU else value + 1))


def install(walls: Walls) -> None:
    """Install the audit hook for the rest of this process's life."""
    sys.addaudithook(walls.hook)
