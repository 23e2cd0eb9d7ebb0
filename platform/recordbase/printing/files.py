"""Print templates as files: the built-in ones, and a configuration's.

A template file is Jinja with a YAML header in a Jinja comment, so the file is a
valid template as it stands::

    {#- recordbase-template
    label: Счёт на оплату
    scope: record
    locale: ru
    page: {size: A4, orientation: portrait, margins: {top: 10, right: 10, bottom: 10, left: 15}}
    css: |
      .total { font-weight: bold; }
    -#}
    <h1>Счёт № {{ record.number }}</h1>

A configuration keeps them as ``print_templates/<entity>.<name>.html.j2``. The
platform's own live in the top-level ``print_templates/`` folder: ``page.css``
(the base style every print starts from), ``partials/*.html.j2`` (included as
``rb/<file>``), ``assets/`` (``rb-asset:<file>``) and the generic record and list
printouts that every entity has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from recordbase.errors import ValidationError
from recordbase.messages import msg
from recordbase.printing.sandbox import PARTIAL_PREFIX

HEADER = re.compile(
    r"\A\{#-?[ \t]*recordbase-template[ \t]*\n(?P<yaml>.*?)\n[ \t]*-?#\}[ \t]*\n?", re.S
)
FILE_NAME = re.compile(r"^(?P<entity>[a-z][a-z0-9_]*)\.(?P<name>[a-z][a-z0-9_]*)\.html\.j2$")
ASSET_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,100}$")
ASSET_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif"}
MAX_TEMPLATE_FILE = 400_000
HEADER_KEYS = frozenset({"entity", "name", "label", "scope", "locale", "page", "css"})


def builtin_dir() -> Path:
    """The top-level ``print_templates/`` folder of the source tree."""
    return Path(__file__).resolve().parents[3] / "print_templates"


@dataclass(frozen=True)
class TemplateFile:
    header: dict[str, Any]
    body: str


def parse_template_file(text: str, shown: str) -> TemplateFile:
    """The header and body of a template file; a sentence naming the file if malformed."""
    match = HEADER.match(text)
    if match is None:
        return TemplateFile({}, text)
    import yaml  # at the first template read, not when a server process starts

    try:
        header = yaml.safe_load(match.group("yaml")) or {}
    except yaml.YAMLError as exc:
        raise ValidationError(msg("{file}: the template header is not valid YAML: {reason}",
                                  file=shown, reason=str(exc))) from exc
    if not isinstance(header, dict):
        raise ValidationError(msg("{file}: the template header must be a mapping.", file=shown))
    unknown = set(header) - HEADER_KEYS
    if unknown:
        raise ValidationError(
            f"{shown}: unknown keys in the template header: {', '.join(sorted(unknown))}."
        )
    return TemplateFile(header, text[match.end() :])


def write_template_file(header: dict[str, Any], body: str) -> str:
    import yaml

    text = yaml.safe_dump(header, allow_unicode=True, sort_keys=False, width=100).rstrip()
    return "{#- recordbase-template\n" + text + "\n-#}\n" + body


@lru_cache(maxsize=4)
def _read_builtins(folder: str) -> tuple[str, dict[str, str], dict[str, TemplateFile]]:
    root = Path(folder)
    css = (root / "page.css").read_text(encoding="utf-8") if (root / "page.css").is_file() else ""
    partials: dict[str, str] = {}
    partial_dir = root / "partials"
    if partial_dir.is_dir():
        for path in sorted(partial_dir.glob("*.html.j2")):
            partials[PARTIAL_PREFIX + path.name] = path.read_text(encoding="utf-8")
    generic: dict[str, TemplateFile] = {}
    for path in sorted(root.glob("generic_*.html.j2")):
        name = path.name.removesuffix(".html.j2")
        generic[name] = parse_template_file(path.read_text(encoding="utf-8"), path.name)
    return css, partials, generic


def base_css(folder: Path | None = None) -> str:
    return _read_builtins(str(folder or builtin_dir()))[0]


def partials(folder: Path | None = None) -> dict[str, str]:
    return dict(_read_builtins(str(folder or builtin_dir()))[1])


def generic_templates(folder: Path | None = None) -> dict[str, TemplateFile]:
    return dict(_read_builtins(str(folder or builtin_dir()))[2])


def read_asset(name: str, folder: Path | None = None) -> tuple[str, bytes] | None:
    """An image of ``print_templates/assets/`` by its plain file name (no paths)."""
    if not ASSET_NAME.match(name) or ".." in name:
        return None
    content_type = ASSET_TYPES.get(Path(name).suffix.lower())
    path = (folder or builtin_dir()) / "assets" / name
    if content_type is None or path.is_symlink() or not path.is_file():
        return None
    if path.stat().st_size > 5 * 1024 * 1024:
        return None
    return content_type, path.read_bytes()
