"""The data a print gets, read in the web process and handed to the worker as views.

Records are read a level at a time, one query per entity per level, however many
records a batch prints: the records themselves (with their child-table lines),
then the records their links point at, then those records' links, up to
``DEPTH`` steps from the printed record (``record.contract.client.category`` is
three). Users named by records (authors, managers) come as {id, login, name,
role}. Related lists (``related.payments`` of an invoice) are read only when the
template uses them. Every value is displayed by its own field type
(``display(field, value, locale)``), and kept typed (a ``Decimal``, a ``date``)
for arithmetic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import marshmallow as ma
import sqlalchemy as sa

from recordbase import access as acl
from recordbase import systables
from recordbase.access import AccessService
from recordbase.catalog import Catalog
from recordbase.errors import ConversionError, NotFound, RecordbaseError
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef
from recordbase.printing.lint import child_entity, related_fields
from recordbase.printing.views import EntityInfo, FieldInfo, RecordView, title_of
from recordbase.records.rows import rows_to_json, select_columns

if TYPE_CHECKING:
    from recordbase.users import User

DEPTH = 3
MAX_RELATED = 500
MAX_BATCH = 1000
Key = tuple[str, int]
STAMPS = ("created_at", "updated_at", "created_by", "updated_by")


def entity_info(entity: EntityDef) -> EntityInfo:
    return EntityInfo(
        entity.name,
        entity.label,
        entity.label_plural,
        tuple(FieldInfo(f.name, f.label, f.type) for f in entity.fields),
    )


class RecordLoader:
    """Reads records and what they point at, then makes views of them."""

    def __init__(
        self,
        conn: sa.Connection,
        catalog: Catalog,
        locale: str,
        *,
        access: AccessService | None = None,
        actor: User | None = None,
    ) -> None:
        self.conn = conn
        self.catalog = catalog
        self.locale = locale
        #: with ``access``, records and fields the actor may not read never load
        self.access = access
        self.actor = actor
        self.items: dict[Key, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.stamps: dict[Key, dict[str, Any]] = {}
        self._user_ids: set[int] = set()
        self._infos: dict[str, EntityInfo] = {}
        self._views: dict[tuple[str, int, int], RecordView] = {}

    # --- reading -------------------------------------------------------------------------

    def load(self, entity: EntityDef, ids: Iterable[int], depth: int = DEPTH) -> None:
        frontier: dict[str, set[int]] = {entity.name: set(ids)}
        for level in range(depth + 1):
            following: dict[str, set[int]] = {}
            for name, wanted in frontier.items():
                target = self.catalog.entity(name)
                missing = sorted(i for i in wanted if (name, i) not in self.items)
                for fetched in self._fetch(target, missing):
                    self.items[(name, fetched["id"])] = fetched
                for record_id in wanted:
                    item = self.items.get((name, record_id))
                    if item is not None:
                        self._collect(target, item, following if level < depth else None)
            frontier = following
            if not frontier:
                break
        self._load_users()

    def _fetch(self, entity: EntityDef, ids: Sequence[int]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        table = self.catalog.table(entity)
        allowed: list[sa.ColumnElement[bool]] = []
        visible = entity
        if self.access is not None:
            rights = self.access.rights(self.conn, self.actor, entity)
            if "read" not in rights.actions:
                return out  # shown as missing, like a record that does not exist
            visible = acl.view(entity, rights)
            condition = acl.read_condition(rights, self.actor, entity, table)
            if condition is not None:
                allowed.append(condition)
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = (
                self.conn.execute(
                    sa.select(*select_columns(visible, table, self.catalog)).where(
                        table.c.id.in_(chunk), *allowed
                    )
                )
                .mappings()
                .all()
            )
            out.extend(rows_to_json(self.conn, self.catalog, visible, rows))
            for row in rows:
                self.stamps[(entity.name, row["id"])] = {k: row[k] for k in STAMPS}
                self._user_ids.update(
                    uid for uid in (row["created_by"], row["updated_by"]) if uid is not None
                )
        return out

    def _collect(
        self, entity: EntityDef, item: dict[str, Any], following: dict[str, set[int]] | None
    ) -> None:
        for fdef in entity.fields:
            value = item.get(fdef.name)
            ftype = self.catalog.type_of(fdef)
            target = ftype.reference_target(fdef)
            if target is not None:
                if following is not None:
                    following.setdefault(target, set()).update(ftype.referenced_ids(fdef, value))
                continue
            lines = child_entity(self.catalog, fdef)
            if lines is not None:
                for line in value or []:
                    self._collect(lines, line, following)
                continue
            if isinstance(value, int) and ftype.refers_to_users:
                self._user_ids.add(value)

    def _load_users(self) -> None:
        wanted = sorted(self._user_ids - set(self.users))
        if not wanted:
            return
        users = systables.users
        rows = self.conn.execute(
            sa.select(users.c.id, users.c.login, users.c.name, users.c.role).where(
                users.c.id.in_(wanted)
            )
        ).mappings()
        for row in rows:
            self.users[row["id"]] = dict(row)

    def related_ids(
        self, entity: EntityDef, ids: Sequence[int], wanted: set[str] | None
    ) -> dict[int, dict[str, list[Key]]]:
        """For each record id: the records of each related entity that link to it."""
        out: dict[int, dict[str, list[Key]]] = {i: {} for i in ids}
        if not ids:
            return out
        for owner, fdef in related_fields(self.catalog, entity):
            if wanted is not None and owner.name not in wanted:
                continue
            table = self.catalog.table(owner)
            source = self.catalog.type_of(fdef).source_column(fdef)
            assert source is not None
            column = table.c[source]
            rows = self.conn.execute(
                sa.select(table.c.id, column)
                .where(column.in_(list(ids)))
                .order_by(table.c.id)
                .limit(MAX_RELATED * len(ids))
            ).all()
            for related_id, parent_id in rows:
                bucket = out[parent_id].setdefault(owner.name, [])
                if len(bucket) < MAX_RELATED and (owner.name, related_id) not in bucket:
                    bucket.append((owner.name, related_id))
        return out

    # --- views ---------------------------------------------------------------------------------

    def view(self, entity: EntityDef, record_id: int, depth: int = DEPTH) -> RecordView:
        item = self.items.get((entity.name, record_id))
        if item is None:
            raise NotFound(msg("There is no {entity} with id {id}.", entity=entity.label,
                                   id=record_id))
        return self._view(entity, item, depth)

    def _info(self, entity: EntityDef) -> EntityInfo:
        info = self._infos.get(entity.name)
        if info is None:
            info = self._infos[entity.name] = entity_info(entity)
        return info

    def _view(self, entity: EntityDef, item: dict[str, Any], depth: int) -> RecordView:
        memo_key = (entity.name, int(item.get("id") or 0), depth)
        if item.get("id") is not None and memo_key in self._views:
            return self._views[memo_key]
        values: dict[str, Any] = {"id": item.get("id"), "version": item.get("version")}
        shown: dict[str, str] = {"id": str(item.get("id") or "")}
        if entity.tree:
            values["parent"] = item.get("parent")
        for fdef in entity.fields:
            values[fdef.name], shown[fdef.name] = self._value(fdef, item.get(fdef.name), depth)
        stamps = self.stamps.get((entity.name, int(item.get("id") or 0)), {})
        for key, stamp in stamps.items():
            values[key] = self.users.get(stamp) if key.endswith("_by") else stamp
        view = RecordView(self._info(entity), values, shown, self._title(entity, item))
        if item.get("id") is not None:
            self._views[memo_key] = view
        return view

    def _value(self, fdef: FieldDef, value: Any, depth: int) -> tuple[Any, str]:
        ftype = self.catalog.type_of(fdef)
        target = ftype.reference_target(fdef)
        if target is not None:
            entity = self.catalog.entity(target)
            linked = [
                self._view(entity, self.items[(target, i)], depth - 1)
                for i in ftype.referenced_ids(fdef, value)
                if depth > 0 and (target, i) in self.items
            ]
            if isinstance(value, list):
                return linked, ", ".join(title_of(v) for v in linked)
            first = linked[0] if linked else None
            return first, title_of(first) if first is not None else self._display(fdef, value)
        lines = child_entity(self.catalog, fdef)
        if lines is not None:
            views = [self._view(lines, line, depth) for line in value or []]
            return views, self._display(fdef, value)
        if value is not None and ftype.refers_to_users:
            user = self.users.get(value) if isinstance(value, int) else None
            return user, (user or {}).get("name") or (user or {}).get("login") or ""
        return typed(ftype.value_field, fdef, value), self._display(fdef, value)

    def _display(self, fdef: FieldDef, value: Any) -> str:
        try:
            return self.catalog.type_of(fdef).display(fdef, value, self.locale)
        except (RecordbaseError, ConversionError, ValueError, TypeError):
            return "" if value is None else str(value)

    def _title(self, entity: EntityDef, item: dict[str, Any]) -> str:
        from recordbase.records.service import title_field

        fdef = title_field(self.catalog, entity)
        if fdef is None:
            return f"#{item.get('id')}"
        return self._display(fdef, item.get(fdef.name)) or f"#{item.get('id')}"

    def user(self, user_id: int | None) -> dict[str, Any] | None:
        return self.users.get(user_id) if user_id is not None else None


def typed(value_field: Any, fdef: FieldDef, value: Any) -> Any:
    """A JSON value as its type's Python value (decimals as Decimal, dates as date …)."""
    if value is None or isinstance(value, bool | int | list | dict):
        return value
    try:
        return value_field(fdef).deserialize(value)
    except (ma.ValidationError, NotImplementedError, RecordbaseError, ValueError, TypeError):
        return value


def user_json(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.id, "login": user.login, "name": user.name, "role": user.role}


def today() -> dt.date:
    return dt.date.today()
