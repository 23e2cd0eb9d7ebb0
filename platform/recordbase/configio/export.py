"""``export_config``: the live entities as ``<directory>/metadata/<entity>.yaml`` files, and
the print templates as ``<directory>/print_templates/<entity>.<name>.html.j2`` (Word ones as
``<entity>.<name>.docx`` and a ``.docx.json`` sidecar).

The output is deterministic, so an export can live under version control and two
exports of equal configurations are equal byte for byte: entities and fields in
the database's order, keys in the order of ``entity_to_json``, option keys sorted
(PostgreSQL's jsonb does not keep them in order), block style, UTF-8 text as is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from recordbase.configio.checks import live_catalog, live_title_field
from recordbase.configio.layouts import export_layouts
from recordbase.configio.loader import METADATA
from recordbase.model import EntityDef
from recordbase.schema.specs import entity_to_json

if TYPE_CHECKING:
    from recordbase.runtime import Runtime

#: long enough that PyYAML never folds a label or help text over two lines
LINE_WIDTH = 4096


def export_config(runtime: Runtime, directory: Path) -> list[Path]:
    """Write one file per live entity (live fields only) and one per print template;
    remove the files of other entities and templates. Saved layouts go to ``form_layouts/``
    (``recordbase.configio.layouts``).

    Returns the files written, sorted.
    """
    live = live_catalog(runtime)
    entities = live.live_entities()
    folder = Path(directory) / METADATA
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for position, entity in enumerate(entities):
        path = folder / f"{entity.name}.yaml"
        write_atomically(path, dump_yaml(entity_document(entity, position)))
        written.append(path)
    for stale in sorted(set(folder.glob("*.yaml")) - set(written)):
        # an entity removed since the last export: its file would bring it back
        stale.unlink()
    written += export_layouts(runtime, Path(directory), live)
    from recordbase.configio.templates import export_templates

    written += export_templates(runtime, Path(directory), live)
    return sorted(written)


def entity_document(entity: EntityDef, position: int) -> dict[str, Any]:
    """The file content of one entity: ``entity_to_json`` plus its position."""
    doc = entity_to_json(entity)
    fields = doc.pop("fields")
    doc["title_field"] = live_title_field(entity)
    doc["position"] = position
    doc["fields"] = [
        {
            key: sorted_keys(value) if key in ("options", "default") else value
            for key, value in field.items()
        }
        for field in fields
    ]
    return doc


def sorted_keys(value: Any) -> Any:
    """Mappings with their keys sorted, at every level; lists keep their order."""
    if isinstance(value, Mapping):
        return {key: sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list | tuple):
        return [sorted_keys(item) for item in value]
    return value


def dump_yaml(document: Any) -> str:
    return yaml.safe_dump(
        document,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=LINE_WIDTH,
        indent=2,
    )


def write_atomically(path: Path, content: str | bytes) -> None:
    """Readers see the old file or the new one, never half of one (text goes as UTF-8)."""
    temporary = path.with_name(f".{path.name}.tmp")
    if isinstance(content, bytes):
        temporary.write_bytes(content)
    else:
        temporary.write_text(content, encoding="utf-8")
    os.replace(temporary, path)
