"""HTML to PDF with xhtml2pdf, fetching nothing but what the platform hands over.

xhtml2pdf resolves every URL a document names (``<img src>``, ``<link href>``,
CSS ``url()``, ``@import``, ``@font-face``, ``<pdf:*>`` tags) through
``pisaFileObject``, which asks ``FileNetworkManager.get_manager`` for a fetcher:
a local file reader, an HTTP client, or a ``data:`` decoder. ``link_callback``
only rewrites some of those URLs (fonts, PDF backgrounds and
``PmlImageReader._open`` never pass through it), so it is not used as the gate.
Instead the worker replaces ``get_manager`` itself, the one door every fetch
goes through:

- ``data:`` URIs are decoded in memory (size- and pixel-limited by the policy);
- ``rb-file:<id>`` and ``rb-asset:<name>`` are served from the bytes the web
  process looked up for this job (stored files by id, the platform's assets);
- anything else (a path, ``file:``, ``http:``, any other scheme) is refused and
  noted, and the document renders without it.

xhtml2pdf's own resource policy is set to its strictest too (no network, no
local directory), and ReportLab's colour parser is told not to evaluate
expressions (CVE-2023-33733). Under all of it, the worker's audit hook refuses
sockets and files outside its walls (``recordbase.printing.guard``).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

PDF_MIME_REFUSED = ("application/pdf",)


class PdfError(Exception):
    """Raised inside the worker when xhtml2pdf reports errors for a document."""


def install_fetch_gate(resources: Mapping[str, tuple[str, bytes]], refused: list[str]) -> None:
    """Route every fetch of xhtml2pdf through the job's own resources (worker only)."""
    from reportlab import rl_config
    from xhtml2pdf import files
    from xhtml2pdf.config.resources import ResourceAccessError

    # colours are parsed as literals only: no rl_safe_eval of "[[[...]]]" expressions
    rl_config.toColorCanUse = None
    rl_config.trustedHosts = []
    rl_config.trustedSchemes = []

    class Granted(files.BaseFile):  # type: ignore[misc]
        def __init__(self, uri: str, content_type: str, data: bytes) -> None:
            super().__init__(uri, None, None)
            self.mimetype = content_type
            self.data = data
            self.uri = uri
            self.suffix = "." + content_type.rsplit("/", 1)[-1].split("+")[0]

        def budget_key(self) -> object | None:
            return None

        def extract_data(self) -> bytes | None:
            return self.data

    class Refused(files.BaseFile):  # type: ignore[misc]
        def budget_key(self) -> object | None:
            return None

        def extract_data(self) -> bytes | None:
            shown = str(self.path)[:200]
            if len(refused) < 100:
                refused.append(f"fetch {shown}")
            raise ResourceAccessError(f"{shown!r} is not a resource a print may use")

    def get_manager(uri: Any, basepath: Any = None, policy: Any = None) -> Any:
        if uri is None or isinstance(uri, bytes):
            # the caller's own bytes (or none at all), never a fetch
            return files.BytesFileUri(uri or b"", None, policy)
        text = str(uri).strip()
        if text[:5].lower() == "data:":
            return files.InlineDataURI(text, None, policy)
        granted = resources.get(text)
        if granted is not None:
            content_type, data = granted
            return Granted(text, content_type, data)
        return Refused(text, None, policy)

    files.FileNetworkManager.get_manager = staticmethod(get_manager)


def strict_policy(seconds: float, max_resources: int, resource_bytes: int) -> Any:
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    return ResourceAccessPolicy.server(
        base_dir=None,
        allow_remote=False,
        allowed_hosts=frozenset(),
        max_resources=max_resources,
        max_resource_bytes=resource_bytes,
        max_local_bytes=resource_bytes,
        max_render_seconds=seconds,
        max_image_pixels=25_000_000,
        allow_remote_pdf_backgrounds=False,
    )


def html_to_pdf(html: str, policy: Any) -> bytes:
    """The PDF of ``html`` (the fetch gate must be installed first)."""
    from xhtml2pdf import pisa

    out = io.BytesIO()
    status = pisa.pisaDocument(
        html, dest=out, encoding="utf-8", resource_policy=policy, raise_exception=True
    )
    if status.err:
        messages = [str(entry[2]) for entry in getattr(status, "log", []) if entry[0] == "error"]
        detail = "; ".join(messages[:3]) or "the HTML could not be laid out"
        raise PdfError(f"The PDF could not be made: {detail}.")
    return out.getvalue()
