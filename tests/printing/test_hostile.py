"""Hostile templates fail safely with a clear error; nothing outside the job is touched.

Proof that nothing leaves: a local HTTP server on 127.0.0.1 records every request,
and a file canary is a FIFO: whoever opens it for reading unblocks a writer thread
that records the hit (a plain file's access time would not be reliable).
"""

from __future__ import annotations

import contextlib
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from recordbase.errors import TemplateError
from recordbase.printing.views import EntityInfo, FieldInfo, RecordView
from recordbase.printing.worker import Limits, PrintWorkers, RenderJob

from .conftest import pdf_images

INVOICE = EntityInfo("invoices", "Invoice", "Invoices",
                     (FieldInfo("number", "Number", "text"), FieldInfo("total", "Total", "money")))
RECORD = RecordView(INVOICE, {"number": "INV-1", "total": "10.00"},
                    {"number": "INV-1", "total": "10,00"}, "INV-1")
WORKERS = PrintWorkers(Limits(seconds=4, batch_seconds=4, memory_bytes=768 * 1024 * 1024))


def render(body: str, fmt: str = "pdf", css: str = "", seconds: float = 4) -> bytes:
    job = RenderJob(fmt=fmt, main="tpl:1", sources={"tpl:1": body}, parts=[{"record": RECORD}],
                    css=css, limits=WORKERS.limits, seconds=seconds)
    return WORKERS.run(job, lambda uris: {}).content


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def canary(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    fifo = tmp_path / "canary.png"
    os.mkfifo(fifo)
    hits: list[str] = []

    def wait_for_a_reader() -> None:
        with fifo.open("wb"):  # blocks until someone opens the canary for reading
            hits.append("opened")

    thread = threading.Thread(target=wait_for_a_reader, daemon=True)
    thread.start()
    try:
        yield fifo, hits
    finally:
        with fifo.open("rb"):  # release the writer
            pass
        thread.join(5)
        hits.remove("opened")  # our own release; anything left was a leak


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
        ("{{ record.__class__ }}", "unsafe"),
        ("{{ config }}", "'config' is not defined"),
        ("{{ self._TemplateReference__context }}", "unsafe"),
        ("{{ '{0.__class__.__init__.__globals__}'.format(record) }}", "unsafe"),
        ("{{ '{0._values}'.format(record) }}", "unsafe"),
        ("{{ '{a.__class__}'.format_map({'a': record}) }}", "unsafe"),
        ("{{ range(10**9)|list|length }}", "Range too big"),
        ("{{ 'x' * 10**9 }}", "Repeating a text"),
        ("{{ 9 ** 999999999 }}", "Exponents above"),
        ("{{ 'x'|center(10**10) }}", "memory"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recurses too deeply"),
        ("{% for i in range(99999) %}{{ 'x' * 999999 }}{% endfor %}", "grew past"),
        ("{{ record.nope }}", "Invoice has no field 'nope'"),
        ("line one\n{{ undefined_helper() }}", "Line 2"),
        ("{% include 'rb/../../etc/passwd' %}", "no partial"),
        ("{% if %}", "Syntax error"),
    ],
)
def test_escapes_and_tricks_fail_with_a_sentence(body: str, expected: str) -> None:
    with pytest.raises(TemplateError) as info:
        render(body)
    assert expected in info.value.message, info.value.message


def test_a_runaway_loop_is_stopped_at_the_deadline() -> None:
    body = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    with pytest.raises(TemplateError, match="longer than 2 seconds and was stopped"):
        render(body, seconds=2)
    assert b"%PDF" in render("<p>still fine</p>")  # the next render is unaffected


def test_nothing_is_fetched_or_read(
    listener: tuple[str, list[str]], canary: tuple[Path, list[str]]
) -> None:
    url, hits = listener
    fifo, reads = canary
    body = f"""
    <link rel="stylesheet" href="{url}/style.css">
    <style>@import url({url}/import.css); @font-face {{ font-family: x; src: url({url}/f.ttf); }}
      @font-face {{ font-family: y; src: url(file://{fifo}); }}
      p {{ background-image: url({url}/bg.png); }}</style>
    <img src="{url}/img.png"><img src="file:///etc/passwd"><img src="/etc/passwd">
    <img src="{fifo}"><img src="file://{fifo}"><img src="../../../../{fifo}">
    <pdf:font name="z" src="{fifo}"/><p style="font-family: y">{{{{ record.number }}}}</p>
    <div style="background-image: url({url}/div.png)">x</div>
    """
    content = render(body, css=f"body {{ background-image: url({url}/css.png); }}")
    assert content.startswith(b"%PDF")
    assert pdf_images(content) == 0
    assert hits == []
    assert reads == []  # nobody opened the canary


def test_the_reportlab_colour_expression_is_not_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "exploited"
    payload = (
        "[[[getattr(pow, Word('__globals__'))['os'].system('touch " + str(marker) + "') "
        "for Word in [ orgTypeFun( 'Word', (str,), { 'mutated': 1, 'startswith': "
        "lambda self, x: 1 == 0, '__eq__': lambda self, x: self.mutate() and "
        "self.mutated < 0 and str(self) == x, 'mutate': lambda self: "
        "{setattr(self, 'mutated', self.mutated - 1)}, '__hash__': lambda self: "
        "hash(str(self)), }, ) ] ] for orgTypeFun in [type(type(1))] for none in "
        "[[].append(1)]]] and 'red'"
    )
    body = (f'<para><font color="{payload}">exploit</font></para>'
            f'<p><font color="{payload}">x</font></p><p style="color: {payload[:90]}">y</p>')
    with contextlib.suppress(TemplateError):
        render(body)
    assert not marker.exists()


def test_html_output_is_the_template_as_is_with_no_fetches(
    listener: tuple[str, list[str]],
) -> None:
    url, hits = listener
    page = render(f'<img src="{url}/a.png">{{{{ record.number }}}}', fmt="html").decode()
    assert "INV-1" in page
    assert hits == []  # the HTML is served with a CSP that forbids fetching (see the API)
