"""Checks that need the field-type registry and the live catalog, and normal forms.

Each entity file is turned into the shapes of ``entity_to_json``/``field_to_json``
with every default filled in, the way ``SchemaService`` would store it, so that a
file and the database compare key by key. Every field is checked by its own type
(``clean_options``) against a *prospective* catalog: the live entities plus
stand-ins for the entities the files will create, so a link to an entity that is
created by the same configuration is fine and a link to nothing is an error
before anything is changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import marshmallow as ma
import sqlalchemy as sa

from recordbase import systables
from recordbase.catalog import Catalog
from recordbase.configio.files import FileProblem, Problems
from recordbase.configio.loader import ConfigSet, EntityFile
from recordbase.errors import RecordbaseError, ValidationError
from recordbase.fields.base import FieldType, flatten_messages
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef, NavSetting
from recordbase.names import check_label
from recordbase.schema.specs import humanize

if TYPE_CHECKING:
    from recordbase.runtime import Runtime

ENTITY_FLAGS = ("directory", "tree", "child")


@dataclass(frozen=True)
class CheckedEntity:
    """An entity file in normal form: attributes and fields as the database would hold them."""

    file: EntityFile
    attributes: Mapping[str, Any]
    fields: tuple[Mapping[str, Any], ...]

    @property
    def name(self) -> str:
        return self.file.name

    def field(self, name: str) -> Mapping[str, Any]:
        return next(f for f in self.fields if f["name"] == name)


def check_config(config: ConfigSet, live: Catalog) -> list[CheckedEntity]:
    """Every entity file in normal form, in the configuration's order; raise on any problem."""
    problems = Problems()
    prospective = prospective_catalog(live, config)
    checked: list[CheckedEntity] = []
    for entity_file in config.ordered():
        fields = []
        for index in range(len(entity_file.fields)):
            try:
                fields.append(normal_field(entity_file, index, prospective))
            except FileProblem as problem:
                problems.add(problem)
        checked.append(CheckedEntity(entity_file, normal_entity(entity_file), tuple(fields)))
    problems.raise_if_any(msg("nothing was changed"))
    return checked


def live_catalog(runtime: Runtime) -> Catalog:
    """The database's catalog; a sentence instead of an SQL error when it has none yet."""
    if not sa.inspect(runtime.engine).has_table(systables.meta_version.name):
        raise ValidationError(
            msg("The database has no Recordbase tables yet; create it with "
                "`recordbase init --config DIR` first.")
        )
    return runtime.cache.current()


def live_title_field(entity: EntityDef) -> str | None:
    """The title field, unless it names a removed field (records then fall back, too)."""
    title = entity.title_field
    return title if title is not None and entity.has_field(title) else None


def normal_entity(entity_file: EntityFile) -> dict[str, Any]:
    spec = entity_file.spec
    label = check_label(spec.get("label") or humanize(entity_file.name), "entity")
    return {
        "name": entity_file.name,
        "label": label,
        "label_plural": check_label(spec.get("label_plural") or label, "entity", "label_plural"),
        **{flag: bool(spec.get(flag, False)) for flag in ENTITY_FLAGS},
        "title_field": spec.get("title_field"),
        "nav": NavSetting.from_json(spec.get("nav")).to_json(),
    }


def normal_field(entity_file: EntityFile, index: int, prospective: Catalog) -> dict[str, Any]:
    """One field of a file in the shape of ``field_to_json``, checked by its type."""
    spec = entity_file.fields[index]
    at = _locator(entity_file, index)
    registry = prospective.registry
    if spec["type"] not in registry:
        raise at(
            "type",
            msg("there is no field type '{type}'; the types are: {types}", type=spec["type"],
                types=", ".join(sorted(registry.names()))),
        )
    ftype = registry.get(spec["type"])
    options = _options(ftype, spec, entity_file.name, prospective, at)
    for flag, allowed in (("unique", ftype.can_be_unique), ("indexed", ftype.can_be_indexed)):
        if spec.get(flag) and not allowed:
            raise at(flag, msg("a {type} field cannot be {flag}", type=ftype.name, flag=flag))
    return {
        "name": spec["name"],
        "label": check_label(spec.get("label") or humanize(spec["name"]), "field"),
        "type": ftype.name,
        "options": options,
        "required": bool(spec.get("required", False)),
        "unique": bool(spec.get("unique", False)),
        "indexed": bool(spec.get("indexed", False)),
        "default": _default(ftype, spec, options, at),
        "help": spec.get("help") or "",
    }


Locator = Callable[[str, str], FileProblem]


def _locator(entity_file: EntityFile, index: int) -> Locator:
    def at(key: str, message: str) -> FileProblem:
        return FileProblem(entity_file.shown, entity_file.field_path(index, key), message)

    return at


def _options(
    ftype: FieldType, spec: Mapping[str, Any], entity: str, prospective: Catalog, at: Locator
) -> dict[str, Any]:
    raw = dict(spec.get("options") or {})
    try:
        return ftype.clean_options(raw, without_field(prospective, entity, spec["name"]))
    except ma.ValidationError as exc:
        raise at("options", flatten_messages(exc.messages)) from exc
    except RecordbaseError as exc:
        raise at("options", exc.message) from exc


def _default(
    ftype: FieldType, spec: Mapping[str, Any], options: Mapping[str, Any], at: Locator
) -> Any:
    default = spec.get("default")
    if default is None:
        return None
    if not ftype.can_have_default or ftype.read_only:
        raise at("default", msg("a {type} field cannot have a default value", type=ftype.name))
    probe = FieldDef(
        id=0,
        entity_id=0,
        name=spec["name"],
        label=spec["name"],
        type=ftype.name,
        options=MappingProxyType(dict(options)),
    )
    try:
        parsed = ftype.value_field(probe).deserialize(default)
        return ftype.to_json(probe, ftype.to_db(probe, parsed))
    except ma.ValidationError as exc:
        raise at("default", msg("not a valid value: {reason}",
                                reason=flatten_messages(exc.messages))) from exc
    except RecordbaseError as exc:
        raise at("default", msg("not a valid value: {reason}", reason=exc.message)) from exc


# --- the prospective catalog ------------------------------------------------------------


def prospective_catalog(live: Catalog, config: ConfigSet) -> Catalog:
    """The live entities plus a stand-in (negative ids, no tables) for each entity to create."""
    entities = dict(live.entities)
    next_id = -1
    for entity_file in config.ordered():
        if entity_file.name in entities:
            continue
        entity_id = next_id
        fields = []
        for position, spec in enumerate(entity_file.fields):
            next_id -= 1
            fields.append(
                FieldDef(
                    id=next_id,
                    entity_id=entity_id,
                    name=spec["name"],
                    label=spec["name"],
                    type=spec["type"],
                    options=MappingProxyType(dict(spec.get("options") or {})),
                    position=position,
                )
            )
        next_id -= 1
        flags = entity_file.spec
        entities[entity_file.name] = EntityDef(
            id=entity_id,
            name=entity_file.name,
            label=entity_file.name,
            label_plural=entity_file.name,
            directory=bool(flags.get("directory")),
            tree=bool(flags.get("tree")),
            child=bool(flags.get("child")),
            all_fields=tuple(fields),
        )
    return Catalog(version=live.version, registry=live.registry, entities=entities)


def without_field(catalog: Catalog, entity: str, field: str) -> Catalog:
    """The catalog a field is checked against: without that field itself (a child table
    would otherwise find its lines already taken, by itself)."""
    owner = catalog.entities.get(entity)
    if owner is None or not any(f.name == field for f in owner.all_fields):
        return catalog
    entities = dict(catalog.entities)
    entities[entity] = replace(
        owner, all_fields=tuple(f for f in owner.all_fields if f.name != field)
    )
    return Catalog(version=catalog.version, registry=catalog.registry, entities=entities)
