"""Converting a field's stored values to a new type or new options.

Every value goes through the field types' own exchange conversion: the old type
writes it as text (``export_value``), the new type reads it back
(``import_value``) with all of its validation (length, choices, scale, dates…).
A value the new definition cannot hold is a *failing* row, never a silently
rounded, truncated or dropped one. The same pass answers a dry run (counts and
samples) and feeds the apply step (the converted values).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from recordbase.catalog import Catalog
from recordbase.errors import ConversionError, ValidationError
from recordbase.fields.base import FieldType, flatten_messages
from recordbase.messages import msg, reason
from recordbase.model import EntityDef, FieldDef

BATCH = 5000
MAX_SAMPLES = 20

Progress = Callable[[int, int], None]


@dataclass
class Failure:
    id: int
    value: Any
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "value": self.value, "reason": self.reason}


@dataclass
class ConversionReport:
    rows: int = 0
    convertible: int = 0
    failing: int = 0
    changed: int = 0
    samples: list[Failure] = field(default_factory=list)
    #: id → new stored value of every convertible row that holds a value
    values: dict[int, Any] = field(default_factory=dict)
    #: id → old JSON value of every failing row (kept in the journal)
    displaced: dict[int, Any] = field(default_factory=dict)

    def add_failure(self, failure: Failure) -> None:
        self.failing += 1
        self.displaced[failure.id] = failure.value
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(failure)

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "convertible": self.convertible,
            "failing": self.failing,
            "samples": [s.as_json() for s in self.samples],
        }


def iter_values(
    conn: sa.Connection, table: sa.Table, column: str, *, batch: int = BATCH
) -> Iterator[list[tuple[int, Any]]]:
    """(id, stored value) of every row, in id order, in batches (keyset on id)."""
    last = 0
    col = table.c[column]
    while True:
        rows = conn.execute(
            sa.select(table.c.id, col).where(table.c.id > last).order_by(table.c.id).limit(batch)
        ).all()
        if not rows:
            return
        yield [(int(r[0]), r[1]) for r in rows]
        last = int(rows[-1][0])


def convert_one(
    old_type: FieldType, old: FieldDef, new_type: FieldType, new: FieldDef, stored: Any
) -> Any:
    """One stored value of ``old`` to the stored value of ``new``; raises ConversionError."""
    value = old_type.to_json(old, stored)
    if value is None or (isinstance(value, list | str) and not value):
        return None
    converted = new_type.convert_value(new, old_type, old, value)
    if converted is None:
        return None
    try:
        return new_type.to_db(new, new_type.value_field(new).deserialize(converted))
    except ma.ValidationError as exc:
        raise ConversionError(flatten_messages(exc.messages)) from exc


def convert_field(
    conn: sa.Connection,
    catalog: Catalog,
    entity: EntityDef,
    old: FieldDef,
    new: FieldDef,
    *,
    progress: Progress | None = None,
) -> ConversionReport:
    """Convert (in memory) every value of ``old`` to ``new``; nothing is written."""
    old_type, new_type = catalog.type_of(old), catalog.type_of(new)
    source = old_type.source_column(old)
    if source is None:
        raise ValidationError(msg(
            "The values of a {old_type} field cannot be converted.",
            old_type=old_type.name,
        ))
    table = catalog.table(entity)
    total = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    report = ConversionReport(rows=int(total))
    seen_unique: dict[Any, int] = {}
    done = 0
    for batch in iter_values(conn, table, source):
        for record_id, stored in batch:
            try:
                converted = convert_one(old_type, old, new_type, new, stored)
                if new.required and new_type.empty(converted):
                    raise ConversionError(msg("A value is required."))
                if new.unique and converted is not None:
                    first = seen_unique.setdefault(converted, record_id)
                    if first != record_id:
                        raise ConversionError(msg("The same value as record {first}.", first=first))
                problem = new_type.check_references(conn, new, catalog, converted)
                if problem:
                    raise ConversionError(problem)
            except ConversionError as exc:
                report.add_failure(Failure(record_id, old_type.to_json(old, stored), reason(exc)))
                continue
            report.convertible += 1
            if converted is not None:
                report.values[record_id] = converted
            if converted != stored or type(converted) is not type(stored):
                report.changed += 1
        done += len(batch)
        if progress is not None:
            progress(done, report.rows)
    return report
