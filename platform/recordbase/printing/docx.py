"""Word templates: a .docx with Jinja tags, filled by docxtpl in the print sandbox.

An uploaded file is checked before it is stored: it must be a zip of sane size
(no zip bomb: members and their expanded total are bounded) holding
``word/document.xml``. Filling it runs in the worker like every render, with the
same sandboxed environment and helpers as HTML templates.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from typing import Any

from recordbase.errors import ValidationError
from recordbase.messages import msg

MAX_DOCX_BYTES = 10 * 1024 * 1024
MAX_MEMBERS = 500
MAX_EXPANDED_BYTES = 60 * 1024 * 1024
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def check_docx(data: bytes) -> None:
    """Refuse anything but a modest Word document, with a sentence saying why."""
    if len(data) > MAX_DOCX_BYTES:
        raise ValidationError(
            msg("A Word template may be at most {mb} MB.", mb=MAX_DOCX_BYTES // 1024 // 1024),
            fields={"file": msg("Too large.")},
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise ValidationError(
                    msg(
                        "The Word file holds more than {max_members} parts.",
                        max_members=MAX_MEMBERS,
                    ),
                    fields={"file": msg("Too many parts.")},
                )
            expanded = sum(m.file_size for m in members)
            if expanded > MAX_EXPANDED_BYTES:
                raise ValidationError(
                    msg(
                        "The Word file expands to more than {mb} MB.",
                        mb=MAX_EXPANDED_BYTES // 1024 // 1024,
                    ),
                    fields={"file": msg("Expands too much.")},
                )
            if "word/document.xml" not in archive.namelist():
                raise ValidationError(
                    msg("The file is not a Word document (.docx): it has no word/document.xml."),
                    fields={"file": msg("Not a .docx file.")},
                )
    except zipfile.BadZipFile as exc:
        raise ValidationError(
            msg("The file is not a Word document (.docx)."),
            fields={"file": msg("Not a .docx file.")}
        ) from exc


def docx_source(data: bytes) -> str:
    """The Jinja source docxtpl makes of the document's body (for linting)."""
    from docxtpl import DocxTemplate

    template = DocxTemplate(io.BytesIO(data))
    template.init_docx()
    source: str = template.patch_xml(template.get_xml())
    return source


def fill_docx(
    data: bytes, context: Mapping[str, Any], helpers: Mapping[str, Any], limit: int
) -> bytes:
    """The filled document (runs in the worker)."""
    from docxtpl import DocxTemplate

    from recordbase.printing.sandbox import OutputTooLarge, make_environment

    env = make_environment({}, autoescape=True)
    env.globals.update(helpers["globals"])
    env.filters.update(helpers["filters"])
    template = DocxTemplate(io.BytesIO(data))
    template.render(dict(context), jinja_env=env, autoescape=True)
    out = io.BytesIO()
    template.save(out)
    content = out.getvalue()
    if len(content) > limit:
        raise OutputTooLarge(
            msg("The filled document is larger than {size} MB.", size=limit // 1024 // 1024)
        )
    return content
