"""SchemaService: every structural change goes through here, as an operation.

Each operation runs in one write transaction: the metadata version row is bumped
first (which also serialises structural changes: a row lock on PostgreSQL, the
write lock on SQLite, and record writes take that row FOR SHARE, so they finish
before or after a change, never across it), the licence policy is asked, the
operation validates and applies, and a journal entry records before, after and
what the change displaced. PostgreSQL's DDL is transactional and so is SQLite's
once the driver stops committing on its own (see ``recordbase.db``): a failure
or a crash anywhere leaves the database as it was. On PostgreSQL a change waits
for its locks only briefly (``lock_timeout``), retries, and then answers "busy".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from recordbase import db, systables
from recordbase.catalog import Catalog, CatalogCache, load_catalog
from recordbase.errors import Busy, Conflict, NotFound, RecordbaseError
from recordbase.fields.computed import check_computed
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef
from recordbase.schema.convert import Progress
from recordbase.schema.operation import OPERATIONS, OpContext, Operation, Outcome
from recordbase.schema.ops_entity import (
    ChangeEntity,
    CreateEntity,
    PurgeEntity,
    RemoveEntity,
    RestoreEntity,
)
from recordbase.schema.ops_field import (
    AddField,
    ChangeField,
    PurgeField,
    RemoveField,
    RestoreField,
)
from recordbase.schema.policy import StructurePolicy

PG_LOCK_TIMEOUT = "3s"
LOCK_RETRIES = 3
LOCK_NOT_AVAILABLE = "55P03"


class _DryRun(Exception):
    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


class SchemaService:
    def __init__(self, engine: sa.Engine, cache: CatalogCache, policy: StructurePolicy) -> None:
        self.engine = engine
        self.cache = cache
        self.registry = cache.registry
        self.policy = policy

    # --- the frame every operation runs in ------------------------------------------

    def execute(
        self,
        op: Operation,
        *,
        user_id: int | None = None,
        dry_run: bool = False,
        progress: Progress | None = None,
    ) -> Outcome:
        for attempt in range(LOCK_RETRIES):
            try:
                return self._execute_once(op, user_id, dry_run, progress)
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                    raise
                time.sleep(0.2 * 2**attempt)
        raise Busy(
            msg(
                "The table is in use by a long-running query; the structure was not changed. "
                "Try again in a moment."
            )
        )

    def _execute_once(
        self, op: Operation, user_id: int | None, dry_run: bool, progress: Progress | None
    ) -> Outcome:
        try:
            with db.write(self.engine, rebuild=op.rebuilds and not dry_run) as conn:
                ctx = self._begin(conn, user_id, dry_run, progress, structural=op.structural)
                outcome = op.run(ctx)
                if dry_run:
                    raise _DryRun(outcome)
                check_computed(ctx.reload())
                self._journal(conn, outcome, user_id)
        except _DryRun as stop:
            return stop.outcome
        finally:
            self.cache.invalidate()
        return outcome

    def execute_all(
        self, ops: list[Operation], *, user_id: int | None = None,
        progress: Progress | None = None,
        then: Callable[[sa.Connection, Catalog], None] | None = None,
    ) -> list[Outcome]:
        """Several operations in one transaction, each with its own journal entry: all of
        them happen or none does. An error names the operation that failed (``step``).
        ``then`` runs last in the same transaction, with the catalog the operations made
        (config apply saves layouts there)."""
        rebuild = any(op.rebuilds for op in ops)
        outcomes: list[Outcome] = []
        try:
            with db.write(self.engine, rebuild=rebuild) as conn:
                structural = any(op.structural for op in ops)
                ctx = self._begin(conn, user_id, False, progress, structural=structural)
                for index, op in enumerate(ops):
                    ctx.reload()
                    try:
                        outcome = op.run(ctx)
                    except RecordbaseError as exc:
                        exc.extra = {**exc.extra, "step": index}
                        raise
                    self._journal(conn, outcome, user_id)
                    outcomes.append(outcome)
                # computations may refer to fields that later steps add
                check_computed(ctx.reload())
                if then is not None:
                    then(conn, ctx.reload())
        finally:
            self.cache.invalidate()
        return outcomes

    def _begin(
        self, conn: sa.Connection, user_id: int | None, dry_run: bool, progress: Progress | None,
        *, structural: bool = True,
    ) -> OpContext:
        """Take the structure lock, ask the licence (for structural changes), and read
        the catalog afresh."""
        if conn.dialect.name == "postgresql":
            # a long report must not make every user queue behind our ALTER
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{PG_LOCK_TIMEOUT}'")
        if not dry_run:
            conn.execute(
                sa.update(systables.meta_version)
                .where(systables.meta_version.c.id == 1)
                .values(version=systables.meta_version.c.version + 1, changed_at=systables.utcnow())
            )
        if structural:
            self.policy.check_structure_change(conn)
        catalog = load_catalog(conn, self.registry)
        return OpContext(conn, catalog, self.registry, user_id, dry_run=dry_run, progress=progress)

    def _journal(self, conn: sa.Connection, outcome: Outcome, user_id: int | None) -> int:
        return int(
            conn.execute(
                sa.insert(systables.journal)
                .values(
                    operation=outcome.operation,
                    user_id=user_id,
                    entity=outcome.entity,
                    field=outcome.field,
                    before=outcome.before,
                    after=outcome.after,
                    displaced=outcome.displaced,
                    details=outcome.details,
                    undoable=outcome.undoable,
                )
                .returning(systables.journal.c.id)
            ).scalar_one()
        )

    # --- entities ---------------------------------------------------------------------

    def create_entity(self, data: Any, *, user_id: int | None = None) -> EntityDef:
        result: EntityDef = self.execute(CreateEntity(data), user_id=user_id).result
        return result

    def update_entity(self, name: str, data: Any, *, user_id: int | None = None) -> EntityDef:
        result: EntityDef = self.execute(ChangeEntity(name, data), user_id=user_id).result
        return result

    def remove_entity(
        self, name: str, *, user_id: int | None = None, dry_run: bool = False
    ) -> Outcome:
        return self.execute(RemoveEntity(name), user_id=user_id, dry_run=dry_run)

    def restore_entity(self, name: str, *, user_id: int | None = None) -> Outcome:
        return self.execute(RestoreEntity(name), user_id=user_id)

    def purge_entity(
        self, name: str, *, confirmed: bool, user_id: int | None = None, dry_run: bool = False
    ) -> Outcome:
        return self.execute(
            PurgeEntity(name, confirmed=confirmed), user_id=user_id, dry_run=dry_run
        )

    # --- fields -------------------------------------------------------------------------

    def add_field(
        self,
        entity: str,
        data: Any,
        *,
        user_id: int | None = None,
        progress: Progress | None = None,
    ) -> FieldDef:
        result: FieldDef = self.execute(
            AddField(entity, data), user_id=user_id, progress=progress
        ).result
        return result

    def update_field(
        self,
        entity: str,
        field: str,
        data: Mapping[str, Any],
        *,
        user_id: int | None = None,
        progress: Progress | None = None,
    ) -> FieldDef:
        result: FieldDef = self.execute(
            ChangeField(entity, field, data), user_id=user_id, progress=progress
        ).result
        return result

    def preview_field_change(
        self, entity: str, field: str, data: Mapping[str, Any], *, progress: Progress | None = None
    ) -> dict[str, Any]:
        return self.execute(
            ChangeField(entity, field, data), dry_run=True, progress=progress
        ).report

    def remove_field(
        self, entity: str, field: str, *, user_id: int | None = None, dry_run: bool = False
    ) -> Outcome:
        return self.execute(RemoveField(entity, field), user_id=user_id, dry_run=dry_run)

    def restore_field(self, entity: str, field: str, *, user_id: int | None = None) -> Outcome:
        return self.execute(RestoreField(entity, field), user_id=user_id)

    def purge_field(
        self,
        entity: str,
        field: str,
        *,
        confirmed: bool,
        user_id: int | None = None,
        dry_run: bool = False,
    ) -> Outcome:
        return self.execute(
            PurgeField(entity, field, confirmed=confirmed), user_id=user_id, dry_run=dry_run
        )

    # --- journal and undo ---------------------------------------------------------------

    def journal(self, *, limit: int = 100, before_id: int | None = None) -> list[dict[str, Any]]:
        j, users = systables.journal, systables.users
        stmt = (
            sa.select(j, users.c.login.label("user"))
            .select_from(j.outerjoin(users, users.c.id == j.c.user_id))
            .order_by(j.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            stmt = stmt.where(j.c.id < before_id)
        with db.read(self.engine) as conn:
            return [journal_json(dict(row)) for row in conn.execute(stmt).mappings()]

    def undo(self, entry_id: int, *, user_id: int | None = None) -> Outcome:
        op = _Undo(entry_id)
        outcome = self.execute(op, user_id=user_id)
        return outcome


class _Undo(Operation):
    """Applies the reverse of one journal entry; refuses out-of-order or unsafe undos."""

    name = "undo"
    rebuilds = True

    def __init__(self, entry_id: int) -> None:
        self.entry_id = entry_id

    def run(self, ctx: OpContext) -> Outcome:
        j = systables.journal
        row = ctx.conn.execute(sa.select(j).where(j.c.id == self.entry_id)).mappings().first()
        if row is None:
            raise NotFound(msg("There is no journal entry {entry_id}.", entry_id=self.entry_id))
        entry = dict(row)
        if entry["undone_at"] is not None:
            raise Conflict(msg(
                "Journal entry {entry_id} was already undone.",
                entry_id=self.entry_id,
            ))
        if not entry["undoable"]:
            raise Conflict(msg(
                "A {operation} cannot be undone.",
                operation=entry['operation'].replace('_', ' '),
            ))
        entity_id = (entry["details"] or {}).get("entity_id")
        later = ctx.conn.execute(
            sa.select(j.c.id, j.c.operation, j.c.details)
            .where(j.c.id > self.entry_id, j.c.undone_at.is_(None), j.c.undoable.is_(True))
            .order_by(j.c.id.desc())
        ).all()
        blocking = [r for r in later if (r.details or {}).get("entity_id") == entity_id]
        if blocking:
            raise Conflict(
                msg(
                    "Undo the later changes to this entity first (the most recent is journal "
                    "entry {id}, {operation}).",
                    id=blocking[0].id, operation=blocking[0].operation.replace('_', ' '),
                )
            )
        outcome = OPERATIONS.get(entry["operation"]).undo(ctx, entry)
        ctx.conn.execute(
            sa.update(j)
            .where(j.c.id == self.entry_id)
            .values(undone_at=systables.utcnow(), undone_by=ctx.user_id)
        )
        outcome.details = {**outcome.details, "undoes": self.entry_id}
        outcome.undoable = False
        return outcome


def journal_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": row["created_at"].isoformat(),
        "user": row["user"],
        "operation": row["operation"],
        "entity": row["entity"],
        "field": row["field"],
        "before": row["before"],
        "after": row["after"],
        "displaced": len(row["displaced"] or {}),
        "undoable": bool(row["undoable"]) and row["undone_at"] is None,
        "undone_at": row["undone_at"].isoformat() if row["undone_at"] else None,
    }
