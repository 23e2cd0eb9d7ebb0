"""Structural changes as objects: each validates, previews, applies and can be undone.

An operation runs inside the transaction ``SchemaService`` opens for it. Its
``run`` returns an ``Outcome``: the preview (what a dry run answers) and, when
applied, what the journal keeps (metadata before and after, values it displaced,
physical details such as backup columns). ``undo`` is a class method that takes a
journal entry and applies the reverse change, refusing with a sentence when the
reverse would lose data written since.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa

from recordbase import systables
from recordbase.catalog import Catalog, load_catalog
from recordbase.errors import Conflict, RegistryError
from recordbase.fields.registry import FieldTypeRegistry
from recordbase.messages import msg
from recordbase.schema.convert import Progress


@dataclass
class OpContext:
    conn: sa.Connection
    catalog: Catalog
    registry: FieldTypeRegistry
    user_id: int | None
    dry_run: bool = False
    progress: Progress | None = None

    def reload(self) -> Catalog:
        """Read the metadata again (after this transaction wrote to it)."""
        self.catalog = load_catalog(self.conn, self.registry)
        return self.catalog


@dataclass
class Outcome:
    operation: str
    entity: str | None = None
    field: str | None = None
    before: Any = None
    after: Any = None
    displaced: dict[str, Any] | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: what a dry run reports (rows, convertible, failing, samples, dependents …)
    report: dict[str, Any] = dataclasses.field(default_factory=dict)
    undoable: bool = True
    #: the object the caller asked for (an EntityDef or FieldDef), not journaled
    result: Any = None


class Operation:
    name: ClassVar[str] = ""
    #: SQLite must switch foreign keys off around the transaction (table rebuilds)
    rebuilds: ClassVar[bool] = False
    #: changes the structure, so the licence decides; False for presentation that a
    #: config apply stores in the same transaction (print templates), which the free
    #: tier may change like layouts
    structural: ClassVar[bool] = True

    def run(self, ctx: OpContext) -> Outcome:
        raise NotImplementedError

    @classmethod
    def undo(cls, ctx: OpContext, entry: Mapping[str, Any]) -> Outcome:
        raise Conflict(
            msg("A {operation} cannot be undone.", operation=cls.name.replace("_", " "))
        )


class OperationRegistry:
    def __init__(self) -> None:
        self._ops: dict[str, type[Operation]] = {}

    def register(self, op: type[Operation]) -> type[Operation]:
        if op.name in self._ops:
            raise RegistryError("schema operation", op.name, duplicate=True)
        self._ops[op.name] = op
        return op

    def get(self, name: str) -> type[Operation]:
        try:
            return self._ops[name]
        except KeyError:
            raise RegistryError("schema operation", name) from None


OPERATIONS = OperationRegistry()


def changed_since(conn: sa.Connection, table: sa.Table, when: Any) -> list[int]:
    """Ids of records created or changed after ``when`` (at most 10, for the message)."""
    return [
        int(i)
        for i in conn.execute(
            sa.select(table.c.id).where(table.c.updated_at > when).order_by(table.c.id).limit(10)
        ).scalars()
    ]


def refuse_if_changed_since(
    conn: sa.Connection, entity_name: str, table: sa.Table, when: Any
) -> None:
    """Refuse an undo when records of ``table`` were written after ``when``: undoing
    would lose those writes."""
    changed = changed_since(conn, table, when)
    if changed:
        raise Conflict(
            msg(
                "Records of {entity} were changed after this operation (ids {names}…); "
                "undoing it would lose those changes.",
                entity=entity_name, names=", ".join(map(str, changed)),
            )
        )


def entity_row_values(conn: sa.Connection, entity_id: int) -> dict[str, Any]:
    row = (
        conn.execute(sa.select(systables.entities).where(systables.entities.c.id == entity_id))
        .mappings()
        .one()
    )
    return dict(row)
