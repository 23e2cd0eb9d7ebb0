"""Checking a field definition against the catalog: name, type, options, default."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from recordbase.catalog import Catalog
from recordbase.errors import Conflict, ValidationError
from recordbase.fields.base import FieldType, flatten_messages
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef
from recordbase.names import RESERVED_FIELD_NAMES, check_label, check_name
from recordbase.schema.specs import FieldSpec, humanize, load_spec


def check_new_name(entity: EntityDef, name: Any, *, except_id: int | None = None) -> str:
    checked = check_name(name, "field", reserved=RESERVED_FIELD_NAMES)
    for other in entity.all_fields:
        if other.name == checked and other.id != except_id:
            message = (
                msg(
                    "The entity '{entity}' has a removed field named '{name}'; restore or "
                    "purge it first.",
                    entity=entity.name, name=checked,
                )
                if other.removed
                else msg(
                    "The entity '{entity}' already has a field named '{name}'.",
                    entity=entity.name, name=checked,
                )
            )
            raise Conflict(message, fields={"name": message})
    return checked


def field_type(catalog: Catalog, name: Any) -> FieldType:
    if not isinstance(name, str) or name not in catalog.registry:
        message = msg(
            "Unknown field type '{name}'; the types are: {names}.",
            name=name, names=', '.join(catalog.registry.names()),
        )
        raise ValidationError(message, fields={"type": message})
    return catalog.registry.get(name)


def check_flags(ftype: FieldType, unique: bool, indexed: bool) -> None:
    if unique and not ftype.can_be_unique:
        raise ValidationError(
            msg("A {ftype} field cannot be unique.", ftype=ftype.name),
            fields={"unique": msg("Not available.")}
        )
    if indexed and not ftype.can_be_indexed:
        raise ValidationError(
            msg("A {ftype} field cannot be indexed.", ftype=ftype.name),
            fields={"indexed": msg("Not available.")}
        )


def check_default(ftype: FieldType, probe: FieldDef, default: Any) -> Any:
    """The default as the type's canonical JSON, or a sentence why it does not fit."""
    if default is None:
        return None
    if not ftype.can_have_default or ftype.read_only:
        raise ValidationError(
            msg("A {ftype} field cannot have a default value.", ftype=ftype.name),
            fields={"default": msg("Not available for this type.")},
        )
    try:
        parsed = ftype.value_field(probe).deserialize(default)
    except ma.ValidationError as exc:
        message = msg(
            "The default value is not valid: {problem}",
            problem=flatten_messages(exc.messages),
        )
        raise ValidationError(message, fields={"default": message}) from exc
    return ftype.to_json(probe, ftype.to_db(probe, parsed))


def new_field_values(data: Any, entity: EntityDef, catalog: Catalog) -> dict[str, Any]:
    """A field definition from the API or a file → the values of its ``rb_fields`` row."""
    spec = load_spec(FieldSpec(), data, "field")
    name = check_new_name(entity, spec["name"])
    ftype = field_type(catalog, spec["type"])
    options = ftype.clean_options(spec["options"], catalog)
    check_flags(ftype, spec["unique"], spec["indexed"])
    probe = FieldDef(
        id=0, entity_id=entity.id, name=name, label=name, type=ftype.name, options=options
    )
    return {
        "name": name,
        "label": check_label(spec["label"] or humanize(name), "field"),
        "type": ftype.name,
        "options": options,
        "required": spec["required"],
        "is_unique": spec["unique"],
        "indexed": spec["indexed"],
        "default": check_default(ftype, probe, spec["default"]),
        "help": spec["help"],
        "removed": False,
        "fill_existing": spec["fill_existing"],
    }


def row_values(fdef: FieldDef) -> dict[str, Any]:
    """The ``rb_fields`` columns that a change can touch, from a definition."""
    return {
        "name": fdef.name,
        "label": fdef.label,
        "type": fdef.type,
        "options": dict(fdef.options),
        "required": fdef.required,
        "is_unique": fdef.unique,
        "indexed": fdef.indexed,
        "default": fdef.default,
        "help": fdef.help,
        "removed": fdef.removed,
    }


def field_from_json(base: FieldDef, data: dict[str, Any]) -> FieldDef:
    """``base`` with the values of a journaled field JSON (see specs.field_to_json)."""
    from dataclasses import replace
    from types import MappingProxyType

    return replace(
        base,
        name=data["name"],
        label=data["label"],
        type=data["type"],
        options=MappingProxyType(dict(data["options"])),
        required=data["required"],
        unique=data["unique"],
        indexed=data["indexed"],
        default=data["default"],
        help=data["help"],
    )
