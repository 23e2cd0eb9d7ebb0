"""A configuration's layouts: ``<config>/form_layouts/<entity>.<kind>[.<role>].json``.

In files a layout names fields by API name (``"field": "email"``; a related list by
its entity and that entity's link field, ``"entity": "contacts", "field": "client"``);
the database keeps stable ids. Reading checks each file's size, nesting and JSON
Schema (a problem names the file and the place inside it); planning checks the
names against the configuration's entity files; applying resolves them against the
catalog the same transaction has just built, checks the layout in full and saves a
new version only where it differs: all of it, with the rest, or nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from recordbase import db, systables
from recordbase.catalog import Catalog
from recordbase.configio.files import FileProblem, Problems, shown_path
from recordbase.configio.steps import Step, Unsupported
from recordbase.errors import RecordbaseError, ValidationError
from recordbase.layouts.check import check_layout
from recordbase.layouts.parse import MAX_BYTES, parse_layout, too_large
from recordbase.layouts.schema import schema_problems
from recordbase.messages import msg, reason
from recordbase.model import EntityDef
from recordbase.schema.operation import Operation

if TYPE_CHECKING:
    from recordbase.configio.loader import ConfigSet
    from recordbase.layouts.service import LayoutService
    from recordbase.runtime import Runtime

FOLDER = "form_layouts"
FILE_NAME = re.compile(r"^([a-z][a-z0-9_]{0,62})\.(form|list)(?:\.([a-z][a-z0-9_]{0,39}))?\.json$")
MAX_FILES = 1000


@dataclass(frozen=True)
class LayoutFile:
    """One layout file, schema-checked, fields still by name."""

    shown: str
    entity: str
    kind: str
    role: str | None
    body: Mapping[str, Any]

    @property
    def subject(self) -> str:
        return f"layout {self.entity}.{self.kind}" + (f".{self.role}" if self.role else "")


def read_layouts(root: Path, problems: Problems) -> list[LayoutFile]:
    """Every layout file of ``root/form_layouts`` (none when the folder is absent)."""
    folder = root / FOLDER
    if not folder.is_dir():
        return []
    paths = sorted(folder.iterdir())
    if len(paths) > MAX_FILES:
        problems.note(FOLDER, "", f"holds {len(paths)} files; at most {MAX_FILES} are read")
        return []
    found = []
    for path in paths:
        shown = shown_path(path, root)
        if path.suffix != ".json":
            continue  # a README, notes: not layouts
        try:
            found.append(read_layout_file(path, shown))
        except FileProblem as problem:
            problems.add(problem)
        except _Many as many:
            for each in many.problems:
                problems.add(each)
    return found


class _Many(Exception):
    def __init__(self, problems: list[FileProblem]) -> None:
        super().__init__(str(problems[0]))
        self.problems = problems


def read_layout_file(path: Path, shown: str) -> LayoutFile:
    match = FILE_NAME.match(path.name)
    if match is None:
        raise FileProblem(shown, "", msg("name layout files <entity>.form.json, "
                                         "<entity>.list.json or <entity>.form.<role>.json"))
    if path.is_symlink() or not path.is_file():
        raise FileProblem(shown, "", msg("is not a regular file (links are not followed)"))
    size = path.stat().st_size
    if size > MAX_BYTES:  # refused unread
        raise FileProblem(shown, "", too_large(size, "the file").message
                          .removeprefix("the file ").rstrip("."))
    with path.open("rb") as fh:
        raw = fh.read(MAX_BYTES + 1)
    try:
        body = parse_layout(raw, what="the file")
    except RecordbaseError as exc:
        raise FileProblem(shown, "", exc.message.removeprefix("the file ").rstrip(".")) from exc
    found = [FileProblem(shown, where, message) for where, message in schema_problems(body)]
    if found:
        raise _Many(found)
    entity, kind, role = match.groups()
    if body["kind"] != kind:
        raise FileProblem(shown, "kind", msg("the file is named .{kind}.json but holds a {held} "
                                             "layout", kind=kind, held=body["kind"]))
    return LayoutFile(shown, entity, kind, role, body)


# --- names and ids ---------------------------------------------------------------------------


def _refs(body: Any) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """(place, the object holding "field", the entity of a related list) of a layout."""
    for c, column in enumerate(body.get("columns", [])):
        yield f"columns[{c}].field", column, None
    for s, key in enumerate(body.get("sort", [])):
        yield f"sort[{s}].field", key, None
    for t, tab in enumerate(body.get("tabs", [])):
        for s, section in enumerate(tab["sections"]):
            for e, element in enumerate(section["elements"]):
                at = f"tabs[{t}].sections[{s}].elements[{e}].field"
                if element["type"] in ("field", "child_table"):
                    yield at, element, None
                elif element["type"] == "related":
                    yield at, element, element["entity"]


def names_to_ids(layout: LayoutFile, catalog: Catalog) -> dict[str, Any]:
    """The file's layout with field names replaced by the catalog's ids; FileProblem names
    the first name that is not a live field."""
    body: dict[str, Any] = json.loads(json.dumps(layout.body))
    for where, holder, other in _refs(body):
        owner_name = other or layout.entity
        owner = catalog.entities.get(owner_name)
        if owner is None or owner.removed:
            raise FileProblem(layout.shown, where.rsplit(".", 1)[0] + ".entity" if other
                              else where, msg("there is no entity named '{entity}'",
                                              entity=owner_name))
        name = holder["field"]
        if not isinstance(name, str) or not owner.has_field(name):
            raise FileProblem(layout.shown, where, msg("{entities} have no field named '{field}'",
                                                       entities=owner_name, field=str(name)))
        holder["field"] = owner.field(name).id
    return body


def ids_to_names(body: Mapping[str, Any], entity: EntityDef, catalog: Catalog) -> dict[str, Any]:
    """A saved layout in the files' shape: fields by name; what is no longer a live field
    (removed, purged) is left out."""
    out: dict[str, Any] = json.loads(json.dumps(body))

    def name_of(owner_name: str | None, ident: Any) -> str | None:
        owner = catalog.entities.get(owner_name or entity.name)
        found = None if owner is None else next(
            (f for f in owner.fields if f.id == ident), None)
        return None if found is None else found.name

    def keep(holder: dict[str, Any], other: str | None) -> bool:
        name = name_of(other, holder.get("field"))
        if name is None:
            return False
        holder["field"] = name
        return True

    if "columns" in out:
        out["columns"] = [c for c in out["columns"] if keep(c, None)]
        out["sort"] = [k for k in out.get("sort", []) if keep(k, None)]
    for tab in out.get("tabs", []):
        for section in tab["sections"]:
            section["elements"] = [
                e for e in section["elements"]
                if e["type"] not in ("field", "child_table", "related")
                or keep(e, e["entity"] if e["type"] == "related" else None)
            ]
    return out


# --- planning and applying ---------------------------------------------------------------------


@dataclass(frozen=True)
class SaveLayout(Step):
    """A layout file that differs from the layout in force (or has none to differ from)."""

    layout: LayoutFile
    new: bool

    def describe(self) -> str:
        return f"{'+' if self.new else '~'} {self.layout.subject} ({self.layout.shown})"

    def operations(self) -> list[Operation]:
        return []  # saved by ``ApplyLayouts`` once the entities and fields exist


def apply_layouts(
    conn: sa.Connection, catalog: Catalog, service: LayoutService, layouts: list[LayoutFile]
) -> None:
    """Save the layouts of a plan in the caller's transaction (after the schema changes)."""
    for layout in layouts:
        save_layout(conn, catalog, service, layout)


def save_layout(
    conn: sa.Connection, catalog: Catalog, service: LayoutService, layout: LayoutFile
) -> int | None:
    """Check one file's layout in full and save it as a new version if it differs."""
    try:
        body = names_to_ids(layout, catalog)
    except FileProblem as problem:
        raise problem_error(problem) from problem
    ent = catalog.entity(layout.entity)
    normal = service.check(conn, catalog, ent, layout.kind, body, role=layout.role,
                           what=layout.shown)
    if _current_body(conn, ent, layout) == normal:
        return None
    return service.store(conn, ent, layout.kind, normal, actor=None, role=layout.role,
                         note=f"config apply: {layout.shown}")


def problem_error(problem: FileProblem) -> RecordbaseError:
    return ValidationError(msg("{problem}.", problem=reason(problem)),
                           fields={f"{problem.file}: {problem.path}": problem.message})


def _current_body(conn: sa.Connection, ent: EntityDef, layout: LayoutFile) -> Any:
    t = systables.layout_versions
    return conn.execute(
        sa.select(t.c.body)
        .where(t.c.entity_id == ent.id, t.c.kind == layout.kind, t.c.role == (layout.role or ""))
        .order_by(t.c.number.desc())
        .limit(1)
    ).scalar()


def plan_layouts(runtime: Runtime, config: ConfigSet, live: Catalog) -> list[Step]:
    """A step per layout file that would change something; a blocked step per file whose
    entity, fields or role the configuration does not have."""
    steps: list[Step] = []
    with db.read(runtime.engine) as conn:
        roles = set(conn.execute(sa.select(systables.roles.c.name)).scalars())
        for layout in config.layouts:
            reason = _unknown_names(layout, config, roles)
            if reason is not None:
                steps.append(Unsupported(f"{layout.subject}", reason))
                continue
            current = None
            if layout.entity in live.entities and not live.entities[layout.entity].removed:
                current = _current_body(conn, live.entities[layout.entity], layout)
            same = current is not None and _normal(layout, live) == current
            if not same:
                steps.append(SaveLayout(layout, new=current is None))
    return steps


def _normal(layout: LayoutFile, live: Catalog) -> dict[str, Any] | None:
    """The file's layout as the database would keep it, if the live catalog can say
    (None: it names what the configuration adds, or it does not pass the checks yet)."""
    try:
        return check_layout(live, live.entity(layout.entity), layout.kind,
                            names_to_ids(layout, live), what=layout.shown)
    except (FileProblem, RecordbaseError):
        return None


def _unknown_names(layout: LayoutFile, config: ConfigSet, roles: set[str]) -> str | None:
    if layout.role is not None and layout.role not in roles:
        return msg("{file}: there is no role named '{role}'", file=layout.shown, role=layout.role)
    if layout.entity not in config.entities:
        return msg("{file}: there is no entity file metadata/{entity}.yaml", file=layout.shown,
                   entity=layout.entity)
    for where, holder, other in _refs(layout.body):
        owner = config.entities.get(other or layout.entity)
        if owner is None:
            return msg("{file}: {path}.entity: there is no entity named '{entity}'",
                       file=layout.shown, path=where.rsplit(".", 1)[0], entity=other)
        names = {f["name"] for f in owner.fields}
        if holder["field"] not in names:
            return msg("{file}: {path}: {entities} have no field named '{field}'",
                       file=layout.shown, path=where, entities=owner.name, field=holder["field"])
    return None


# --- export ----------------------------------------------------------------------------------


#: the order of keys in exported files (PostgreSQL's jsonb does not keep the saved order)
KEY_ORDER = (
    "format", "kind", "id", "type", "label", "row", "col", "width", "field", "entity",
    "text", "level", "file", "alt", "help", "placeholder", "readonly", "hidden", "required",
    "collapsed", "direction", "tabs", "sections", "elements", "columns", "sort",
)


def canonical(value: Any) -> Any:
    """``value`` with every mapping's keys in ``KEY_ORDER`` (unknown keys last, sorted)."""
    if isinstance(value, dict):
        rank = {key: n for n, key in enumerate(KEY_ORDER)}
        keys = sorted(value, key=lambda k: (rank.get(k, len(rank)), k))
        return {k: canonical(value[k]) for k in keys}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def export_layouts(runtime: Runtime, directory: Path, catalog: Catalog) -> list[Path]:
    """Write the layout in force of every live entity (each role's too) as files; remove the
    layout files of layouts no longer saved. Deterministic: keys in the layout's order."""
    folder = Path(directory) / FOLDER
    t = systables.layout_versions
    written: list[Path] = []
    with db.read(runtime.engine) as conn:
        latest = (
            sa.select(t.c.entity_id, t.c.kind, t.c.role, sa.func.max(t.c.number).label("n"))
            .group_by(t.c.entity_id, t.c.kind, t.c.role)
            .subquery()
        )
        rows = conn.execute(
            sa.select(t.c.entity_id, t.c.kind, t.c.role, t.c.body).join(
                latest,
                sa.and_(t.c.entity_id == latest.c.entity_id, t.c.kind == latest.c.kind,
                        t.c.role == latest.c.role, t.c.number == latest.c.n),
            )
        ).all()
    from recordbase.configio.export import write_atomically  # export imports this module

    by_id = {e.id: e for e in catalog.live_entities()}
    for entity_id, kind, role, body in rows:
        entity = by_id.get(entity_id)
        if entity is None:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{entity.name}.{kind}" + (f".{role}" if role else "") + ".json"
        text = json.dumps(canonical(ids_to_names(body, entity, catalog)), ensure_ascii=False,
                          indent=2)
        path = folder / name
        write_atomically(path, text + "\n")
        written.append(path)
    if folder.is_dir():
        for stale in sorted(set(folder.glob("*.json")) - set(written)):
            stale.unlink()
    return sorted(written)
