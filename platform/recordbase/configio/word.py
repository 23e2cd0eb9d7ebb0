"""Word print templates in the configuration exchange: ``print_templates/<entity>.<name>.docx``.

The document is kept as it is (binary), next to the HTML templates; its settings
(label, locale) are in a JSON sidecar ``<entity>.<name>.docx.json``, a part of
the header that ``metadata/print_template.schema.json`` describes (a Word document
sets its own page and style, so ``page``, ``css`` and ``scope`` have no place
there). Without a sidecar the label is the name and the locale ``ru``, as for an
upload. A file is checked like an upload (size, a zip holding
``word/document.xml``, no zip bomb) before anything is planned; ``config apply``
stores the documents in the same transaction as the rest (``configio.templates``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recordbase.errors import ValidationError
from recordbase.messages import msg
from recordbase.printing.docx import MAX_DOCX_BYTES, check_docx
from recordbase.printing.spec import TemplateData, parse_spec

WORD_NAME = re.compile(r"^(?P<entity>[a-z][a-z0-9_]*)\.(?P<name>[a-z][a-z0-9_]*)\.docx$")
SIDECAR = ".json"
#: the keys of a sidecar (entity and name default to the file name's parts)
SIDECAR_KEYS = ("entity", "name", "label", "locale")
MAX_SIDECAR = 10_000


@dataclass(frozen=True)
class WordFile:
    entity: str
    data: TemplateData
    content: bytes
    shown: str


def read_word_files(folder: Path, shown_folder: str) -> tuple[list[WordFile], list[str]]:
    """The folder's Word templates, and a sentence for each file that is not one."""
    if not folder.is_dir():
        return [], []
    found: list[WordFile] = []
    problems: list[str] = []
    names = {path.name for path in folder.iterdir()}
    for path in sorted(folder.iterdir()):
        shown = f"{shown_folder}/{path.name}"
        if path.name.endswith(".docx" + SIDECAR):
            if path.name.removesuffix(SIDECAR) not in names:
                problems.append(f"{shown}: there is no {path.name.removesuffix(SIDECAR)} "
                                "beside it to describe")
            continue
        if not path.name.endswith(".docx"):
            continue
        try:
            found.append(_read(path, shown))
        except ValidationError as exc:
            problems.append(msg("{file}: {problem}", file=shown, problem=exc.message))
    return found, problems


def _read(path: Path, shown: str) -> WordFile:
    match = WORD_NAME.match(path.name)
    if match is None or path.is_symlink() or not path.is_file():
        raise ValidationError(msg("name Word templates <entity>.<name>.docx (regular files)."))
    if path.stat().st_size > MAX_DOCX_BYTES:
        raise ValidationError(
            msg("the file is larger than {size} MB, the most a Word template may be.",
                size=MAX_DOCX_BYTES // 1024 // 1024)
        )
    content = path.read_bytes()
    check_docx(content)
    header = _sidecar(path.with_name(path.name + SIDECAR))
    entity = str(header.pop("entity", match.group("entity")))
    header.setdefault("name", match.group("name"))
    return WordFile(entity, parse_spec(header, kind="docx"), content, shown)


def _sidecar(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_SIDECAR:
        raise ValidationError(
            msg("{file} must be a regular file of at most {size} kB.", file=path.name,
                size=MAX_SIDECAR // 1000)
        )
    try:
        header = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(
            msg("{file} is not valid JSON: {reason}", file=path.name, reason=str(exc))
        ) from exc
    if not isinstance(header, dict):
        raise ValidationError(msg("{file} must hold a JSON object.", file=path.name))
    unknown = sorted(set(header) - set(SIDECAR_KEYS))
    if unknown:
        raise ValidationError(
            msg("{file}: unknown keys {unknown}; a Word template's settings are {known} (the "
                "document sets its own page and style).", file=path.name,
                unknown=", ".join(unknown), known=", ".join(SIDECAR_KEYS))
        )
    return header


def sidecar_of(data: TemplateData) -> str:
    """The sidecar's text for a stored Word template, keys in a fixed order."""
    return json.dumps({"label": data.label, "locale": data.locale}, ensure_ascii=False,
                      indent=2) + "\n"
