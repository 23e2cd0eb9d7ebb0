"""Renders run in a worker process that a runaway template cannot outlive.

Each job forks a fresh process from multiprocessing's fork server, which has
imported Jinja, xhtml2pdf and ReportLab and registered the fonts once
(``recordbase.printing.warm``), so a fork costs milliseconds. The worker:

1. lowers its resource limits (memory, processor time, file size) and installs
   the audit hook of ``recordbase.printing.guard``;
2. renders the template in the sandbox, streaming and counting the output;
3. if the document names stored files or assets (``rb-file:<id>``,
   ``rb-asset:<name>``), asks the web process for them over its pipe (the worker
   has no database), and
4. makes the PDF (or fills the Word template) and sends it back.

The web process waits until the deadline and kills the worker after it, so a
template that loops for ever, or a library that hangs, costs one process and
a clear error, never the server. What the worker sends back is framed as a JSON
header and raw bytes: nothing from it is unpickled.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from markupsafe import escape

from recordbase.errors import TemplateError
from recordbase.messages import from_data, msg
from recordbase.printing import guard, sandbox

MB = 1024 * 1024
PRELOAD = "recordbase.printing.warm"
PAGE_BREAK = '\n<div class="rb-page-break" style="page-break-before: always"></div>\n'
Resolver = Callable[[list[str]], dict[str, tuple[str, bytes]]]


@dataclass(frozen=True)
class Limits:
    """What one render may use; a batch gets ``batch_seconds`` instead of ``seconds``."""

    seconds: float = 30.0
    batch_seconds: float = 50.0
    memory_bytes: int = 1536 * MB
    html_bytes: int = 20 * MB
    output_bytes: int = 60 * MB
    resources: int = 50
    resource_bytes: int = 10 * MB


@dataclass
class RenderJob:
    """Everything a worker needs: sources by internal name, and plain-data contexts."""

    fmt: str
    main: str
    sources: dict[str, str]
    parts: list[dict[str, Any]]
    css: str = ""
    locale: str = "ru"
    title: str = ""
    today: dt.date = field(default_factory=dt.date.today)
    docx: bytes | None = None
    limits: Limits = field(default_factory=Limits)
    seconds: float = 30.0


@dataclass
class Rendered:
    content: bytes
    refused: list[str]
    seconds: float


# --- inside the worker -------------------------------------------------------------------


def child_main(conn: Connection, job: RenderJob) -> None:
    """The worker's entry point (runs in the forked process)."""
    scratch = tempfile.mkdtemp(prefix="rb-print-")
    walls = guard.Walls([*guard.python_roots(), _font_root()], scratch)
    try:
        guard.set_limits(job.limits.memory_bytes, int(job.seconds) + 2, job.limits.output_bytes)
        tempfile.tempdir = scratch
        os.environ["TMPDIR"] = scratch
        guard.install(walls)
        content = _run(conn, job, walls)
        header = {"ok": True, "size": len(content), "refused": walls.refused}
        conn.send_bytes(json.dumps(header).encode())
        conn.send_bytes(content)
    except BaseException as exc:  # noqa: BLE001 (every failure of template code is reported)
        failure = sandbox.failure_of(exc, job.main)
        header = {"ok": False, "failure": failure.as_json(), "refused": walls.refused}
        with contextlib.suppress(OSError):
            conn.send_bytes(json.dumps(header).encode())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        conn.close()


def _font_root() -> str:
    from recordbase.printing.fonts import FontsMissing, font_dir

    try:
        return str(font_dir())
    except FontsMissing:
        return ""


def _run(conn: Connection, job: RenderJob, walls: guard.Walls) -> bytes:
    helpers = sandbox.make_helpers(job.locale, job.today)
    if job.fmt == "docx":
        from recordbase.printing.docx import fill_docx

        return fill_docx(job.docx or b"", job.parts[0], helpers, job.limits.output_bytes)
    html = render_html(job, helpers)
    wanted = sorted(set(sandbox.RESOURCE_URI.findall(html)))[: job.limits.resources]
    resources: dict[str, tuple[str, bytes]] = {}
    if wanted:
        conn.send_bytes(json.dumps({"need": wanted}).encode())
        resources = conn.recv()
    if job.fmt == "html":
        return inline_resources(html, resources).encode("utf-8")
    from recordbase.printing import fonts, pdf

    fonts.register_fonts()
    pdf.install_fetch_gate(resources, walls.refused)
    policy = pdf.strict_policy(job.seconds, job.limits.resources, job.limits.resource_bytes)
    return pdf.html_to_pdf(html, policy)


def render_html(job: RenderJob, helpers: Mapping[str, Any]) -> str:
    """The whole HTML document: the template once per part, parts on their own pages."""
    env = sandbox.make_environment(job.sources)
    env.globals.update(helpers["globals"])
    env.filters.update(helpers["filters"])
    template = env.get_template(job.main)
    limit = job.limits.html_bytes
    size = 0
    bodies: list[str] = []
    for context in job.parts:
        chunks: list[str] = []
        for chunk in template.generate(context):
            size += len(chunk)
            if size > limit:
                raise sandbox.OutputTooLarge(
                    msg("The document grew past {size} MB; a print may not be larger.",
                        size=limit // MB)
                )
            chunks.append(chunk)
        bodies.append("".join(chunks))
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(job.locale)}"><head><meta charset="utf-8">'
        f"<title>{escape(job.title)}</title>\n<style>\n{job.css}\n</style></head>\n"
        f"<body>\n{PAGE_BREAK.join(bodies)}\n</body></html>\n"
    )


def inline_resources(html: str, resources: Mapping[str, tuple[str, bytes]]) -> str:
    """The HTML with ``rb-file:``/``rb-asset:`` references as ``data:`` URIs (for browsers)."""
    import base64

    def replace(match: Any) -> str:
        found = resources.get(match.group(0))
        if found is None:
            return "about:blank"
        content_type, data = found
        return f"data:{content_type};base64,{base64.b64encode(data).decode()}"

    return sandbox.RESOURCE_URI.sub(replace, html)


# --- in the web process ----------------------------------------------------------------------


class PrintWorkers:
    """Starts one worker per render and holds it to its deadline."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.ctx = multiprocessing.get_context("forkserver")
        # only takes effect if this process has not started its fork server yet
        self.ctx.set_forkserver_preload([PRELOAD])

    def run(self, job: RenderJob, resolve: Resolver) -> Rendered:
        parent, child = self.ctx.Pipe(duplex=True)
        process = self.ctx.Process(target=child_main, args=(child, job), daemon=True)
        try:
            process.start()
            # the clock starts once the worker exists: the first start also boots the
            # fork server (imports xhtml2pdf and ReportLab), which is not the template's
            # time and on a busy machine alone took longer than the whole limit
            started = time.monotonic()
            deadline = started + job.seconds
            child.close()
            while True:
                header = self._receive_header(parent, process, deadline, job)
                if "need" in header:
                    parent.send(resolve([str(u) for u in header["need"]]))
                    continue
                if not header.get("ok"):
                    raise _template_error(header.get("failure") or {}, header.get("refused"))
                content = self._receive_content(parent, process, deadline, job)
                return Rendered(content, list(header.get("refused") or []),
                                time.monotonic() - started)
        finally:
            if process.is_alive():
                process.kill()
            if process.pid is not None:
                process.join(5)
                process.close()
            parent.close()
            child.close()

    def _wait(
        self, conn: Connection, process: Any, deadline: float, job: RenderJob
    ) -> None:
        left = deadline - time.monotonic()
        if left <= 0 or not conn.poll(left):
            process.kill()
            raise TemplateError(
                msg("The print took longer than {seconds} seconds and was stopped.",
                    seconds=f"{job.seconds:g}"),
                extra={"kind": "limit"},
            )

    def _receive_header(
        self, conn: Connection, process: Any, deadline: float, job: RenderJob
    ) -> dict[str, Any]:
        self._wait(conn, process, deadline, job)
        try:
            raw = conn.recv_bytes(64 * 1024)
        except (EOFError, OSError):
            raise self._died(process, job) from None
        header: dict[str, Any] = json.loads(raw)
        return header

    def _receive_content(
        self, conn: Connection, process: Any, deadline: float, job: RenderJob
    ) -> bytes:
        self._wait(conn, process, deadline, job)
        try:
            return conn.recv_bytes(job.limits.output_bytes)
        except OSError:
            raise TemplateError(
                msg("The printed document is larger than {size} MB.",
                    size=job.limits.output_bytes // MB),
                extra={"kind": "limit"},
            ) from None
        except EOFError:
            raise self._died(process, job) from None

    def _died(self, process: Any, job: RenderJob) -> TemplateError:
        process.join(5)
        code = process.exitcode
        return TemplateError(
            msg("The print stopped before it finished (it may have needed more than {memory} MB "
                "of memory or {seconds} seconds of processor time; exit code {code}).",
                memory=job.limits.memory_bytes // MB, seconds=f"{job.seconds:g}", code=code),
            extra={"kind": "limit"},
        )


def _template_error(failure: Mapping[str, Any], refused: Any) -> TemplateError:
    sentence = from_data(failure.get("sentence"))
    message: str = (sentence if isinstance(sentence, str) and sentence
                    else str(failure.get("message") or "") or msg("The template failed."))
    line = failure.get("line")
    where = failure.get("template")
    shown: str = message
    if isinstance(line, int):
        shown = (msg("Line {line} of the partial {partial}: {problem}", line=line, partial=where,
                     problem=message) if where else
                 msg("Line {line}: {problem}", line=line, problem=message))
    return TemplateError(
        shown,
        fields={"body": message if line is None else msg("Line {line}: {problem}", line=line,
                                                          problem=message)},
        extra={
            "line": line,
            "problem": message,
            "template": where,
            "kind": failure.get("kind"),
            "refused": list(refused or []),
        },
    )


def warm_up() -> None:
    """Import what a render uses and register the fonts (the fork server calls this)."""
    import docxtpl  # noqa: F401
    import num2words  # noqa: F401
    import segno  # noqa: F401
    from PIL import Image
    from xhtml2pdf import pisa  # noqa: F401

    from recordbase.printing import docx, fonts, pdf  # noqa: F401

    Image.init()
    with contextlib.suppress(fonts.FontsMissing):  # each job reports it
        fonts.register_fonts()
