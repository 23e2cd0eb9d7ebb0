"""A configuration's print templates: ``<config>/print_templates/<entity>.<name>.html.j2``.

``import_templates`` creates the templates a folder has and the database lacks,
and saves a new revision of those whose content differs (so importing the same
folder twice changes nothing); ``export_templates`` writes the live HTML
templates back as files. Every file is checked (header, names, syntax, names
against the schema) before anything is written: one bad file and nothing is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recordbase.errors import NotFound, RecordbaseError, ValidationError
from recordbase.messages import joined, msg
from recordbase.printing.files import (
    FILE_NAME,
    MAX_TEMPLATE_FILE,
    parse_template_file,
    write_template_file,
)
from recordbase.printing.service import PrintService
from recordbase.printing.spec import TemplateData, parse_spec

FOLDER = "print_templates"


def read_templates(config_dir: Path) -> list[tuple[str, TemplateData, str]]:
    """(entity, template, file shown) for each template file of a configuration."""
    folder = config_dir / FOLDER
    if not folder.is_dir():
        return []
    found: list[tuple[str, TemplateData, str]] = []
    problems: list[str] = []
    for path in sorted(folder.iterdir()):
        shown = f"{FOLDER}/{path.name}"
        if not path.name.endswith(".html.j2"):
            continue
        match = FILE_NAME.match(path.name)
        if match is None or path.is_symlink() or not path.is_file():
            problems.append(msg("{file}: name template files <entity>.<name>.html.j2 (regular "
                                "files)", file=shown))
            continue
        if path.stat().st_size > MAX_TEMPLATE_FILE:
            problems.append(msg("{file}: is larger than {size} kB", file=shown,
                                size=MAX_TEMPLATE_FILE // 1000))
            continue
        try:
            parsed = parse_template_file(path.read_text(encoding="utf-8"), shown)
            header = dict(parsed.header)
            entity = str(header.pop("entity", match.group("entity")))
            header.setdefault("name", match.group("name"))
            data = parse_spec({**header, "body": parsed.body})
        except (ValidationError, UnicodeDecodeError) as exc:
            problems.append(msg("{file}: {problem}", file=shown,
                                problem=getattr(exc, "message", None) or str(exc)))
            continue
        found.append((entity, data, shown))
    if problems:
        raise ValidationError(
            msg("The print templates have {count} problem(s); nothing was imported: {problems}",
                count=len(problems), problems=joined(problems[:10], "; ")),
            fields={p.split(":", 1)[0]: p.split(":", 1)[1].strip() for p in problems},
        )
    return found


def import_templates(prints: PrintService, config_dir: Path, *, user_id: int | None) -> list[str]:
    """Create or update the folder's templates; return ``entity/name`` of those changed."""
    found = read_templates(config_dir)
    problems: list[str] = []
    for entity, data, shown in found:
        try:
            prints.lint_or_raise(entity, data.body, data.scope)
        except RecordbaseError as exc:
            problems.append(msg("{file}: {problem}", file=shown, problem=exc.message))
    if problems:
        raise ValidationError(
            msg("The print templates do not match the structure; nothing was imported: "
                "{problems}", problems=joined(problems[:10], "; "))
        )
    changed: list[str] = []
    for entity, data, _shown in found:
        spec: dict[str, Any] = {
            "name": data.name, "label": data.label, "body": data.body, "css": data.css,
            "page": data.page, "scope": data.scope, "locale": data.locale,
        }
        try:
            current = prints.template(entity, data.name)
        except NotFound:
            prints.create(entity, spec, user_id=user_id)
            changed.append(f"{entity}/{data.name}")
            continue
        if any(current.get(key) != value for key, value in spec.items()):
            prints.update(entity, data.name, spec, user_id=user_id)
            changed.append(f"{entity}/{data.name}")
    return changed


def export_templates(prints: PrintService, config_dir: Path) -> list[Path]:
    """Write every stored HTML template as a file; return the paths written."""
    folder = config_dir / FOLDER
    written: list[Path] = []
    catalog = prints.cache.current()
    for stored in prints.store.all():
        if stored.kind != "html":
            continue
        try:
            entity = catalog.entity_by_id(stored.entity_id)
        except NotFound:
            continue
        header: dict[str, Any] = {
            "label": stored.label,
            "scope": stored.scope,
            "locale": stored.locale,
            "page": stored.page,
        }
        if stored.css:
            header["css"] = stored.css
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{entity.name}.{stored.name}.html.j2"
        path.write_text(write_template_file(header, stored.body), encoding="utf-8")
        written.append(path)
    return written
