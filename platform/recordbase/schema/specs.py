"""The shapes of entity and field definitions as they arrive from the API or files.

Marshmallow checks the shape (known keys, JSON types); ``SchemaService`` checks
the meaning (names, types, options, targets) against the catalog.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from recordbase.errors import ValidationError
from recordbase.fields.base import flatten_messages
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef, NavSetting

MAX_FIELDS_PER_ENTITY = 500


class FieldSpec(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.Raw(required=True, allow_none=True)
    label = ma.fields.String(load_default=None)
    type = ma.fields.String(required=True)
    options = ma.fields.Dict(keys=ma.fields.String(), load_default=dict)
    required = ma.fields.Boolean(load_default=False)
    unique = ma.fields.Boolean(load_default=False)
    indexed = ma.fields.Boolean(load_default=False)
    default = ma.fields.Raw(load_default=None, allow_none=True)
    help = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    #: when adding to a table with rows: write the default into them as well
    fill_existing = ma.fields.Boolean(load_default=False)


class NavSpec(ma.Schema):
    """The navigation setting of an entity (``NavSetting``); a patch may give either key."""

    class Meta:
        unknown = ma.RAISE

    hidden = ma.fields.Boolean()
    position = ma.fields.Integer(
        allow_none=True, strict=True, validate=ma.validate.Range(min=0, max=100000)
    )


class EntitySpec(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.Raw(required=True, allow_none=True)
    label = ma.fields.String(load_default=None)
    label_plural = ma.fields.String(load_default=None)
    directory = ma.fields.Boolean(load_default=False)
    tree = ma.fields.Boolean(load_default=False)
    child = ma.fields.Boolean(load_default=False)
    title_field = ma.fields.String(load_default=None, allow_none=True)
    nav = ma.fields.Nested(NavSpec, load_default=dict)
    field_list = ma.fields.List(
        ma.fields.Dict(),
        data_key="fields",
        load_default=list,
        validate=ma.validate.Length(max=MAX_FIELDS_PER_ENTITY),
    )


class EntityPatch(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.Raw()
    label = ma.fields.String()
    label_plural = ma.fields.String()
    title_field = ma.fields.String(allow_none=True)
    nav = ma.fields.Nested(NavSpec)


_NOUNS = {"entity": msg("entity"), "field": msg("field")}


def load_spec(schema: ma.Schema, data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError(
            msg("The {what} definition must be a JSON object.", what=_NOUNS.get(what, what))
        )
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        fields = _dotted(messages)
        unknown = [k for k, v in fields.items() if "Unknown field" in v]
        if unknown:
            sentence = msg(
                "The {what} definition has unknown keys: {names}.",
                what=_NOUNS.get(what, what), names=', '.join(sorted(unknown)),
            )
        else:
            sentence = msg(
                "The {what} definition is not valid: {problem}",
                what=_NOUNS.get(what, what), problem=flatten_messages(messages),
            )
        raise ValidationError(sentence, fields=fields) from exc
    return loaded


def _dotted(messages: dict[Any, Any], prefix: str = "") -> dict[str, str]:
    """Marshmallow's messages by dotted key: a nested setting's own keys are named
    (``nav.colour``), not only the setting that holds them."""
    out: dict[str, str] = {}
    for key, value in messages.items():
        if isinstance(value, dict) and key != "_schema":
            out.update(_dotted(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = flatten_messages(value)
    return out


def humanize(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def field_to_json(fdef: FieldDef) -> dict[str, Any]:
    return {
        "name": fdef.name,
        "label": fdef.label,
        "type": fdef.type,
        "options": dict(fdef.options),
        "required": fdef.required,
        "unique": fdef.unique,
        "indexed": fdef.indexed,
        "default": fdef.default,
        "help": fdef.help,
    }


def entity_to_json(entity: EntityDef, *, with_fields: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": entity.name,
        "label": entity.label,
        "label_plural": entity.label_plural,
        "directory": entity.directory,
        "tree": entity.tree,
        "child": entity.child,
        "title_field": entity.title_field,
        "nav": entity.nav.to_json(),
    }
    if with_fields:
        out["fields"] = [field_to_json(f) for f in entity.fields]
    return out


def merged_nav(current: NavSetting, patch: Any) -> dict[str, Any]:
    """The stored navigation setting after a (partial, already loaded) ``NavSpec`` patch."""
    return {**current.to_json(), **dict(patch or {})}
