"""Numeric field options: totals of child-table columns and computed values.

A numeric field (integer, decimal, money, percent) may say in its options:

``total``
    whether a column of it in a child table is summed in the footer. Each type
    has a default (amounts and quantities: yes; percents: no); a unit price says
    ``total: false``.

``computed``
    that Recordbase works its value out from other values of the same record,
    on every create and update, in the record's transaction. One key names the
    computation (a registry, like field types):

    - ``{"multiply": ["quantity", "price"]}``: the product of fields of the record
      (or of the child-table line) the field belongs to;
    - ``{"sum": {"child": "lines", "field": "amount"}}``: the sum of a field over
      the lines of a child table of the record.

    The result is rounded half up to the field's decimal places. A computed field
    is read-only in forms; a value sent for it through the API must equal the
    computed one (or it is refused with a sentence).

The shape of ``computed`` is checked with the field's options; what it refers to
(fields that exist and are numeric) is checked against the whole catalog after
every structure change (``check_computed``), so nothing can leave a computation
pointing at a missing or non-numeric field.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma

from recordbase.errors import RegistryError, ValidationError
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef

if TYPE_CHECKING:
    from recordbase.catalog import Catalog

NAME = ma.validate.Regexp(r"^[a-z][a-z0-9_]*\Z", error="A field name.")
#: the options that say how a number is worked out or summed, never how it is stored:
#: changing them converts no value (schema.recompute works computed values out again)
VALUE_OPTIONS = frozenset({"computed", "total"})
MAX_FACTORS = 5


def number(value: Any) -> decimal.Decimal | None:
    """A stored JSON value (a decimal string or an integer) as a Decimal; None when empty."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        return None


class Computation:
    """One way of computing a value; ``spec`` is the value under its key in ``computed``."""

    name: ClassVar[str] = ""
    schema: ClassVar[ma.fields.Field[Any]]

    def operands(self, spec: Any) -> list[str]:
        """Fields of the same record (or line) the value depends on."""
        return []

    def check(self, catalog: Catalog, entity: EntityDef, spec: Any) -> str | None:
        """A sentence when ``spec`` refers to something that is not there or not a number."""
        raise NotImplementedError

    def evaluate(self, catalog: Catalog, entity: EntityDef, spec: Any,
                 record: Mapping[str, Any]) -> decimal.Decimal | None:
        """The value from the record's JSON values (child tables as lists of lines)."""
        raise NotImplementedError

    def describe(self, entity: EntityDef, spec: Any) -> str:
        raise NotImplementedError


def _numeric(catalog: Catalog, entity: EntityDef, name: str) -> str | None:
    if not entity.has_field(name):
        return msg(
            "{entities} have no field named '{name}'", entities=entity.label_plural, name=name
        )
    fdef = entity.field(name)
    if not catalog.type_of(fdef).numeric:
        return msg(
            "{entity}.{name} is a {type} field, not a number",
            entity=entity.name, name=name, type=fdef.type,
        )
    return None


class Multiply(Computation):
    name = "multiply"
    schema = ma.fields.List(
        ma.fields.String(validate=NAME), validate=ma.validate.Length(2, MAX_FACTORS)
    )

    def operands(self, spec: Any) -> list[str]:
        return list(spec)

    def check(self, catalog: Catalog, entity: EntityDef, spec: Any) -> str | None:
        for name in spec:
            problem = _numeric(catalog, entity, name)
            if problem:
                return problem
            if "computed" in entity.field(name).options:
                return msg(
                    "{entity}.{name} is computed itself; multiply stored values",
                    entity=entity.name, name=name,
                )
        return None

    def evaluate(self, catalog: Catalog, entity: EntityDef, spec: Any,
                 record: Mapping[str, Any]) -> decimal.Decimal | None:
        result = decimal.Decimal(1)
        for name in spec:
            factor = number(record.get(name))
            if factor is None:
                return None
            result *= factor
        return result

    def describe(self, entity: EntityDef, spec: Any) -> str:
        return " × ".join(entity.field(n).label if entity.has_field(n) else n for n in spec)


class SumOfLines(Computation):
    name = "sum"
    schema = ma.fields.Nested(
        ma.Schema.from_dict(
            {
                "child": ma.fields.String(required=True, validate=NAME),
                "field": ma.fields.String(required=True, validate=NAME),
            }
        )
    )

    def check(self, catalog: Catalog, entity: EntityDef, spec: Any) -> str | None:
        child = spec["child"]
        if not entity.has_field(child):
            return msg(
                "{entities} have no field named '{name}'",
                entities=entity.label_plural, name=child,
            )
        lines = catalog.type_of(entity.field(child)).line_entity(entity.field(child), catalog)
        if lines is None:
            return msg("{entity}.{name} is not a child table", entity=entity.name, name=child)
        return _numeric(catalog, lines, spec["field"])

    def evaluate(self, catalog: Catalog, entity: EntityDef, spec: Any,
                 record: Mapping[str, Any]) -> decimal.Decimal | None:
        total = decimal.Decimal(0)
        for line in record.get(spec["child"]) or ():
            value = number(line.get(spec["field"])) if isinstance(line, Mapping) else None
            if value is not None:
                total += value
        return total

    def describe(self, entity: EntityDef, spec: Any) -> str:
        child = entity.field(spec["child"]).label if entity.has_field(spec["child"]) else ""
        return f"the sum of {spec['field']} over {child or spec['child']}"


@dataclass
class ComputationRegistry:
    items: dict[str, Computation] = field(default_factory=dict)

    def register(self, computation: Computation) -> None:
        if computation.name in self.items:
            raise RegistryError("computation", computation.name, duplicate=True)
        self.items[computation.name] = computation

    def get(self, name: str) -> Computation:
        try:
            return self.items[name]
        except KeyError:
            raise RegistryError("computation", name) from None

    def names(self) -> list[str]:
        return sorted(self.items)


COMPUTATIONS = ComputationRegistry()
COMPUTATIONS.register(Multiply())
COMPUTATIONS.register(SumOfLines())


class ComputedOption(ma.fields.Field[dict[str, Any]]):
    """The ``computed`` option: one key naming a computation, its value checked by it."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        names = COMPUTATIONS.names()
        if not isinstance(value, Mapping) or len(value) != 1:
            raise ma.ValidationError(
                msg(
                    "An object with one key, the computation: one of {names}.",
                    names=', '.join(names),
                )
            )
        ((key, spec),) = value.items()
        if key not in names:
            raise ma.ValidationError(
                msg(
                    "There is no computation '{key}'; the computations are: {names}.",
                    key=key, names=', '.join(names),
                )
            )
        try:
            loaded = COMPUTATIONS.get(key).schema.deserialize(spec)
        except ma.ValidationError as exc:
            raise ma.ValidationError({key: exc.messages}) from exc
        return {key: loaded}


class NumericOptions(ma.Schema):
    """Options every numeric type takes (see the module's doc)."""

    class Meta:
        unknown = ma.RAISE

    total = ma.fields.Boolean(truthy={True}, falsy={False})
    computed = ComputedOption()


def computation_of(fdef: FieldDef) -> tuple[Computation, Any] | None:
    spec = fdef.options.get("computed")
    if not isinstance(spec, Mapping) or len(spec) != 1:
        return None
    ((key, value),) = spec.items()
    return COMPUTATIONS.get(str(key)), value


def computed_fields(catalog: Catalog, entity: EntityDef) -> list[tuple[FieldDef, Computation, Any]]:
    """The computed fields of an entity, in the order they are worked out: products of a
    line's or record's own values first, then sums over child-table lines."""
    found = []
    for fdef in entity.fields:
        if not catalog.type_of(fdef).numeric:
            continue
        pair = computation_of(fdef)
        if pair is not None:
            found.append((fdef, *pair))
    found.sort(key=lambda item: isinstance(item[1], SumOfLines))
    return found


def check_computed(catalog: Catalog, entities: Sequence[EntityDef] | None = None) -> None:
    """Raise a ValidationError naming the field when a computation refers to a field that
    is missing, not a number, or itself computed from the field (a loop)."""
    for entity in entities if entities is not None else catalog.live_entities():
        for fdef, computation, spec in computed_fields(catalog, entity):
            check_field(catalog, entity, fdef, computation, spec)


def check_field(
    catalog: Catalog, entity: EntityDef, fdef: FieldDef, computation: Computation, spec: Any
) -> None:
    """Raise a ValidationError naming the field when its computation does not work."""
    problem = computation.check(catalog, entity, spec)
    if problem is None and fdef.name in computation.operands(spec):
        problem = msg("{field} cannot be computed from itself", field=fdef.name)
    if problem is not None:
        message = (
            msg(
                "The computed field {entity}.{field} does not work: {problem}. Change its "
                "computed option first.",
                entity=entity.name, field=fdef.name, problem=problem,
            )
        )
        raise ValidationError(message, fields={"options": message})
