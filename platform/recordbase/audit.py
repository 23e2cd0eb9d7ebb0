"""The audit log: who did what, when and from where. Append-only, read-only to everyone.

Entries are written in the same transaction as the change they describe, so a
change and its entry are kept or lost together. Structure changes are already
journaled by SchemaService (``rb_schema_journal``); reading the log merges them in as
``structure.*`` entries instead of keeping a second copy. Old entries go after the
retention period (setting ``audit_retention_days``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from recordbase import db, systables
from recordbase.settings import get_setting

if TYPE_CHECKING:
    from recordbase.users import User

MAX_VALUE_CHARS = 2000


@dataclass(frozen=True)
class AuditFilter:
    user_id: int | None = None
    entity: str | None = None
    record_id: int | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = 100
    #: entries to skip (pages of the log); both sources are read up to offset + limit
    offset: int = 0


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + "…"
    return value


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field-level differences: {field: [before, after]} for the fields that changed."""
    out: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        if key in ("version",):
            continue
        old, new = before.get(key), after.get(key)
        if old != new:
            out[key] = [_clip(old), _clip(new)]
    return out


# built once: every record write adds an entry (the values go as parameters); inline:
# the new id is neither fetched first nor returned, as db.at_commit needs
_INSERT = sa.insert(systables.audit).inline()


class AuditService:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def record(
        self,
        conn: sa.Connection,
        action: str,
        *,
        actor: User | None = None,
        login: str | None = None,
        address: str | None = None,
        entity: str | None = None,
        record_id: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Add one entry in the caller's transaction (at its commit: ``db.at_commit``)."""
        db.at_commit(
            conn,
            _INSERT,
            {
                "at": systables.utcnow(),
                "user_id": actor.id if actor else None,
                "login": actor.login if actor else login,
                "address": (actor.address if actor else None) or address or None,
                "action": action,
                "entity": entity,
                "record_id": record_id,
                "details": dict(details) if details else None,
            },
            prepared=True,  # a system table's INSERT
        )

    def log(self, action: str, **kwargs: Any) -> None:
        """Add one entry in a transaction of its own."""
        with db.write(self.engine) as conn:
            self.record(conn, action, **kwargs)

    # --- reading ------------------------------------------------------------------------

    def entries(self, query: AuditFilter) -> list[dict[str, Any]]:
        """Entries newest first, the structure journal merged in."""
        a = systables.audit
        upto = query.limit + query.offset
        stmt = sa.select(a).order_by(a.c.at.desc(), a.c.id.desc()).limit(upto)
        if query.user_id is not None:
            stmt = stmt.where(a.c.user_id == query.user_id)
        if query.entity is not None:
            stmt = stmt.where(a.c.entity == query.entity)
        if query.record_id is not None:
            stmt = stmt.where(a.c.record_id == query.record_id)
        if query.action is not None:
            stmt = stmt.where(
                a.c.action == query.action
                if "." in query.action
                else a.c.action.startswith(query.action + ".")
            )
        if query.since is not None:
            stmt = stmt.where(a.c.at >= query.since)
        if query.until is not None:
            stmt = stmt.where(a.c.at < query.until)
        with db.read(self.engine) as conn:
            rows = [entry_json(r) for r in conn.execute(stmt).mappings()]
            if query.record_id is None and (query.action or "structure").startswith("structure"):
                rows.extend(self._structure(conn, query))
        rows.sort(key=lambda e: str(e["at"]), reverse=True)  # stable: ties keep id order
        return rows[query.offset : upto]

    def _structure(self, conn: sa.Connection, query: AuditFilter) -> list[dict[str, Any]]:
        j, users = systables.journal, systables.users
        stmt = (
            sa.select(j, users.c.login)
            .select_from(j.outerjoin(users, users.c.id == j.c.user_id))
            .order_by(j.c.created_at.desc())
            .limit(query.limit + query.offset)
        )
        if query.user_id is not None:
            stmt = stmt.where(j.c.user_id == query.user_id)
        if query.entity is not None:
            stmt = stmt.where(j.c.entity == query.entity)
        if query.action and "." in query.action:
            stmt = stmt.where(j.c.operation == query.action.removeprefix("structure."))
        if query.since is not None:
            stmt = stmt.where(j.c.created_at >= query.since)
        if query.until is not None:
            stmt = stmt.where(j.c.created_at < query.until)
        return [
            {
                "id": f"journal-{r['id']}",
                "at": r["created_at"].isoformat(),
                "user_id": r["user_id"],
                "login": r["login"],
                "address": None,
                "action": f"structure.{r['operation']}",
                "entity": r["entity"],
                "record_id": None,
                "details": {"field": r["field"], "before": r["before"], "after": r["after"]},
            }
            for r in conn.execute(stmt).mappings()
        ]

    def history(
        self, entity: str, record_id: int, *, hidden: Iterable[str] = ()
    ) -> list[dict[str, Any]]:
        """A record's entries, oldest first, without the fields the reader may not see."""
        hidden_set = set(hidden)
        items = self.entries(
            AuditFilter(entity=entity, record_id=record_id, action="record", limit=1000)
        )
        out = []
        for item in reversed(items):
            details = dict(item["details"] or {})
            for key in ("changes", "values"):
                if key in details:
                    details[key] = {
                        k: v for k, v in details[key].items() if k not in hidden_set
                    }
            out.append({**item, "details": details})
        return out

    def apply_retention(self, now: dt.datetime | None = None) -> int:
        """Delete the entries older than the retention period; how many went."""
        if not sa.inspect(self.engine).has_table(systables.audit.name):
            return 0
        with db.write(self.engine) as conn:
            days = get_setting(conn, "audit_retention_days")
            if days is None:
                return 0
            cutoff = (now or systables.utcnow()) - dt.timedelta(days=days)
            done = conn.execute(sa.delete(systables.audit).where(systables.audit.c.at < cutoff))
            return int(done.rowcount or 0)


def entry_json(row: sa.RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": row["at"].isoformat(),
        "user_id": row["user_id"],
        "login": row["login"],
        "address": row["address"],
        "action": row["action"],
        "entity": row["entity"],
        "record_id": row["record_id"],
        "details": row["details"],
    }
