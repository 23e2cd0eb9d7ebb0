"""RecordService: list, read, create, update and delete the records of an entity.

Input is checked field by field by each field's type (unknown keys, read-only
fields and system columns are refused), links are checked before anything is
written, and every write runs in one transaction, so a refused request leaves
nothing behind. Updates carry the version they read; a stale one is refused with
who changed the record and when.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from recordbase import access as acl
from recordbase import db, systables
from recordbase.audit import AuditService, changes
from recordbase.catalog import VERSION_LOCK, Catalog, CatalogCache
from recordbase.errors import Conflict, NotFound, PermissionDenied, ValidationError
from recordbase.messages import joined, msg
from recordbase.model import EntityDef, FieldDef
from recordbase.records import query as q
from recordbase.records import statements
from recordbase.records.computing import has_computed, recompute
from recordbase.records.rows import rows_to_json, validate_values
from recordbase.schema.tables import unique_index_name

if TYPE_CHECKING:
    from recordbase.users import User

#: what a list or a read is for: each needs "read" and, past it, its own right
READ_PURPOSES = ("read", "export", "print")


@dataclass
class Page:
    items: list[dict[str, Any]]
    next: str | None
    titles: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the cursor of the page before this one (``before=``); None on the first page
    previous: str | None = None


class RecordService:
    """Records of every entity, through the caller's rights.

    Every method takes the ``actor`` (the signed-in user; None means the system, with
    every right) and asks ``recordbase.access`` once: pages, the API, exports
    (``purpose="export"``), prints (``purpose="print"``), imports
    (``purpose="import"``) and search all pass through here, so hidden fields and
    other people's rows stay out of all of them. Writes are audited in their own
    transaction.
    """

    def __init__(
        self,
        engine: sa.Engine,
        cache: CatalogCache,
        *,
        access: acl.AccessService | None = None,
        audit: AuditService | None = None,
    ) -> None:
        self.engine = engine
        self.cache = cache
        self.access = access or acl.AccessService(engine, cache)
        self.audit = audit or AuditService(engine)

    def rights(self, entity_name: str, actor: User | None) -> acl.EntityRights:
        """What ``actor`` may do with an entity (for a UI deciding what to offer)."""
        with db.read(self.engine) as conn:
            entity = self.cache.current(conn).entity(entity_name)
            return self.access.rights(conn, actor, entity)

    def within_rule(self, entity_name: str, record_id: int, actor: User | None) -> bool:
        """Whether the record is within the actor's row rule (one of theirs, or their
        group's), so that they may change it; for a UI deciding what to offer."""
        with db.read(self.engine) as conn:
            catalog = self.cache.current(conn)
            entity = catalog.entity(entity_name)
            rights = self.access.rights(conn, actor, entity)
            table = catalog.table(entity)
            scope = acl.scope_condition(rights, actor, entity, table)
            if scope is None:
                return True
            found = conn.execute(sa.select(table.c.id).where(table.c.id == record_id, scope))
            return found.first() is not None

    def _authorize(
        self, conn: sa.Connection, entity: EntityDef, actor: User | None, *actions: str
    ) -> acl.EntityRights:
        rights = self.access.rights(conn, actor, entity)
        for action in actions:
            acl.require(rights, action, entity)
        return rights

    # --- reading ------------------------------------------------------------------

    def list_page(
        self,
        entity_name: str,
        query: q.ListQuery,
        *,
        actor: User | None = None,
        purpose: str = "read",
    ) -> Page:
        if purpose not in READ_PURPOSES:
            raise ValueError(f"unknown purpose {purpose!r}")
        if not 1 <= query.limit <= q.MAX_PAGE_SIZE:
            raise ValidationError(
                msg(
                    "The page size must be between 1 and {max_page_size}.",
                    max_page_size=q.MAX_PAGE_SIZE,
                ),
                fields={"limit": msg(
                    "Between 1 and {max_page_size}.",
                    max_page_size=q.MAX_PAGE_SIZE,
                )},
            )
        with db.read(self.engine) as conn:
            catalog = self.cache.current(conn)
            full = catalog.entity(entity_name)
            rights = self._authorize(conn, full, actor, "read", purpose)
            entity = acl.view(full, rights)
            table = catalog.table(entity)
            keys = q.compile_sort(entity, table, catalog, query.sort)
            where = q.compile_filters(entity, table, catalog, query.filters)
            if query.q:
                search = q.compile_search(entity, table, catalog, query.q)
                if search is not None:
                    where.append(search)
            if query.after and query.before:
                raise ValidationError(
                    msg("A page is asked for after a cursor or before one, not both."),
                    fields={"before": msg("Not with after.")},
                )
            after = q.decode_cursor(query.after, keys) if query.after else None
            before = q.decode_cursor(query.before, keys) if query.before else None
            rows_allowed = acl.read_condition(rights, actor, full, table)
            if rows_allowed is not None:
                where.append(rows_allowed)
            # an index walk of the page's rows only (see _title_columns)
            linked = (
                self._title_columns(conn, catalog, entity, actor)
                if conn.dialect.name == "postgresql" and not where and q.walks_index(table, keys)
                else []
            )
            stmt = statements.select_with_titles(catalog, entity, linked).where(*where)
            # a page without conditions has one best plan whatever the cursor and the
            # limit (an index walk): prepared. With conditions the plan depends on
            # the values (how many rows match), so it is made for each request.
            with db.prepared_statements(conn) if not where else nullcontext():
                if before is not None:  # the same index, walked backwards from the cursor
                    rows = q.page_rows(conn, stmt, q.reversed_keys(keys), before, query.limit + 1)
                    earlier, rows = len(rows) > query.limit, rows[: query.limit][::-1]
                    later = bool(rows)
                else:
                    rows = q.page_rows(conn, stmt, keys, after, query.limit + 1)
                    later, rows = len(rows) > query.limit, rows[: query.limit]
                    earlier = after is not None and bool(rows)
            items = rows_to_json(conn, catalog, entity, rows)
            titles = _titles_of_rows(catalog, linked, rows)
            for target, found in self._link_titles(
                conn, catalog, entity, items, actor, skip={t.field.name for t in linked}
            ).items():
                titles.setdefault(target, {}).update(found)

        def cursor_of(row: Any) -> str:
            return q.encode_cursor([row[str(k.column.key)] for k in keys])

        cursor = cursor_of(rows[-1]) if later else None
        previous = cursor_of(rows[0]) if earlier else None
        if purpose != "read" and not query.after and not query.before:
            # one entry per export or printout (its first page), not one per page
            self.audit.log(
                f"record.{purpose}", actor=actor, entity=full.name,
                details={"filters": len(query.filters), "q": query.q or None},
            )
        return Page(items=items, next=cursor, titles=titles, previous=previous)

    def get(
        self,
        entity_name: str,
        record_id: int,
        *,
        with_titles: bool = True,
        actor: User | None = None,
        purpose: str = "read",
    ) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
        """One record and the titles of the records it links to ({} unless ``with_titles``)."""
        if purpose not in READ_PURPOSES:
            raise ValueError(f"unknown purpose {purpose!r}")
        with db.read(self.engine) as conn:
            catalog = self.cache.current(conn)
            full = catalog.entity(entity_name)
            rights = self._authorize(conn, full, actor, "read", purpose)
            entity = acl.view(full, rights)
            rows_allowed = acl.read_condition(rights, actor, full, catalog.table(full))
            item = self._fetch(conn, catalog, entity, record_id, rows_allowed)
            # one query per link target: not worth it for a caller that shows no titles
            titles = (
                self._link_titles(conn, catalog, entity, [item], actor) if with_titles else {}
            )
        if purpose != "read":
            self.audit.log(f"record.{purpose}", actor=actor, entity=full.name, record_id=record_id)
        return item, titles

    def history(
        self, entity_name: str, record_id: int, *, actor: User | None = None
    ) -> list[dict[str, Any]]:
        """The audit entries of one record the actor may read, without hidden fields."""
        with db.read(self.engine) as conn:
            catalog = self.cache.current(conn)
            full = catalog.entity(entity_name)
            rights = self._authorize(conn, full, actor, "read")
            rows_allowed = acl.read_condition(rights, actor, full, catalog.table(full))
            if rows_allowed is not None:
                self._fetch(conn, catalog, acl.view(full, rights), record_id, rows_allowed)
        return self.audit.history(full.name, record_id, hidden=rights.hidden)

    def _fetch(
        self,
        conn: sa.Connection,
        catalog: Catalog,
        entity: EntityDef,
        record_id: int,
        allowed: sa.ColumnElement[bool] | None = None,
    ) -> dict[str, Any]:
        stmt = statements.select_one(catalog, entity)
        if allowed is not None:
            stmt = stmt.where(allowed)
        with db.prepared_statements(conn):  # by id: one plan
            row = conn.execute(stmt, {statements.RECORD_ID: record_id}).mappings().first()
        if row is None:
            raise NotFound(msg(
                "There is no {entity} with id {record_id}.",
                entity=entity.label, record_id=record_id,
            ))
        return rows_to_json(conn, catalog, entity, [row])[0]

    def _title_columns(
        self, conn: sa.Connection, catalog: Catalog, entity: EntityDef, actor: User | None
    ) -> list[statements.TitleColumn]:
        """The link fields of a page whose targets' titles its statement reads too, as
        subqueries of the SELECT: a primary-key lookup per row of the page, and no
        statement (on PostgreSQL, no round trip) of their own.

        Only for a page without conditions whose order an index gives, on PostgreSQL.
        There the subqueries run for the rows the LIMIT keeps, nothing else changes in the
        plan, and the round trip saved is a tenth of the page's time. A sort without an
        index or a filter may scan the table in parallel, which a subquery in the SELECT
        forbids (1M records, sorted on a field without an index: 280-370 ms against
        230); their titles' own statement costs nothing next to them. SQLite would work
        the subqueries out for every row it sorts, and a statement there is no round
        trip."""
        out = []
        asked: dict[str, acl.EntityRights] = {}  # two links to one target: asked once
        for fdef in entity.fields:
            ftype = catalog.type_of(fdef)
            target_name = ftype.reference_target(fdef)
            if not ftype.column_is_reference or target_name is None:
                continue
            target = catalog.entity(target_name)
            rights = asked.get(target_name)
            if rights is None:
                rights = asked[target_name] = self.access.rights(conn, actor, target)
            if "read" not in rights.actions:
                continue
            # an alias of its own: a link to the page's own entity must not correlate
            # the subquery's rows with the page's (made once per catalog, like statements)
            table = catalog.statement(
                ("link_alias", entity.name, fdef.column),
                functools.partial(catalog.table(target).alias, f"rb_link_{fdef.column}"),
            )
            out.append(statements.TitleColumn(
                field=fdef,
                target=target_name,
                title=title_field(catalog, acl.view(target, rights)),
                table=table,
                allowed=acl.read_condition(rights, actor, target, table),
            ))
        return out

    def _link_titles(
        self,
        conn: sa.Connection,
        catalog: Catalog,
        entity: EntityDef,
        items: list[dict[str, Any]],
        actor: User | None = None,
        skip: frozenset[str] | set[str] = frozenset(),
    ) -> dict[str, dict[str, str]]:
        """Display titles of the records this page links to, one query per target.

        Only targets the actor may read, and only their rows the actor may see. Fields
        in ``skip`` are left out (their titles came with the page: ``_title_columns``)."""
        wanted: dict[str, set[int]] = {}
        for fdef in entity.fields:
            if fdef.name in skip:
                continue
            ftype = catalog.type_of(fdef)
            target = ftype.reference_target(fdef)
            if target is None:
                continue
            ids = {i for it in items for i in ftype.referenced_ids(fdef, it.get(fdef.name))}
            if ids:
                wanted.setdefault(target, set()).update(ids)
        out: dict[str, dict[str, str]] = {}
        for target_name, ids in wanted.items():
            linked = catalog.entity(target_name)
            rights = self.access.rights(conn, actor, linked)
            if "read" not in rights.actions:
                continue
            allowed = acl.read_condition(rights, actor, linked, catalog.table(linked))
            out[target_name] = self.titles(
                conn, catalog, acl.view(linked, rights), sorted(ids), allowed
            )
        return out

    def titles(
        self,
        conn: sa.Connection,
        catalog: Catalog,
        entity: EntityDef,
        ids: Sequence[int],
        allowed: sa.ColumnElement[bool] | None = None,
    ) -> dict[str, str]:
        title = title_field(catalog, entity)
        if title is None:
            return {str(i): f"#{i}" for i in ids}
        ftype = catalog.type_of(title)
        source = ftype.source_column(title)
        assert source is not None
        stmt = statements.titles(catalog, entity, source, conn.dialect.name)
        if allowed is not None:
            stmt = stmt.where(allowed)
        with db.prepared_statements(conn):  # by a list of ids: one plan
            rows = conn.execute(stmt, {statements.IDS: list(ids)}).all()
        return {str(rid): title_text(catalog, title, rid, value) for rid, value in rows}

    # --- writing --------------------------------------------------------------------

    def create(
        self,
        entity_name: str,
        data: Any,
        *,
        user_id: int | None = None,
        actor: User | None = None,
        purpose: str = "create",
    ) -> dict[str, Any]:
        """Create a record; ``purpose="import"`` also needs the import right."""
        if actor is not None:
            user_id = actor.id
        with db.write(self.engine, first=VERSION_LOCK) as conn:
            catalog = self.cache.current(conn, for_write=True)
            full = catalog.entity(entity_name)
            actions = ("read", "create", "import") if purpose == "import" else ("read", "create")
            rights = self._authorize(conn, full, actor, *actions)
            entity = acl.view(full, rights)
            acl.check_writable(rights, data, full)
            if actor is not None and rights.row_rule != "all" and isinstance(data, dict):
                owner = rights.owner_field
                if owner and data.get(owner) is None and full.has_field(owner):
                    data = {**data, owner: actor.id}
            record_id = self.insert(
                conn, catalog, full, data, user_id=user_id, view=entity, rights=rights, actor=actor
            )
            created = self._fetch(conn, catalog, full, record_id)
            self.audit.record(
                conn, f"record.{purpose}", actor=actor, entity=full.name, record_id=record_id,
                details={"values": _audited(created)},
            )
            return acl.strip_hidden(created, rights)

    def insert(
        self,
        conn: sa.Connection,
        catalog: Catalog,
        entity: EntityDef,
        data: Any,
        *,
        user_id: int | None,
        extra: Mapping[str, Any] | None = None,
        view: EntityDef | None = None,
        rights: acl.EntityRights = acl.FULL,
        actor: User | None = None,
    ) -> int:
        """Insert one record in the caller's transaction and return its id.

        ``view`` is the entity as the caller sees it (without hidden fields): input is
        checked against it, so a hidden field cannot be written."""
        values = validate_values(
            conn, catalog, view or entity, data, partial=False, allowed_extra=_extra(entity)
        )
        acl.check_owner_value(conn, rights, actor, values)
        self._check_reachable(conn, catalog, entity, values, actor)
        table = catalog.table(entity)
        now = systables.utcnow()
        row: dict[str, Any] = {
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "created_by": user_id,
            "updated_by": user_id,
        }
        if extra:
            row.update(extra)
        if "parent" in values:
            row["parent_id"] = self._check_parent(conn, catalog, entity, 0, values.pop("parent"))
        related: list[tuple[FieldDef, Any]] = []
        for fdef in entity.fields:
            ftype = catalog.type_of(fdef)
            source = ftype.source_column(fdef)
            if ftype.read_only:
                generated = ftype.generate(conn, fdef, entity)
                if generated is not None and source:
                    row[source] = generated
                continue
            if fdef.name in values:
                value = values[fdef.name]
            else:
                default = ftype.default_for(fdef)
                value = (
                    None
                    if default is None
                    else ftype.to_db(fdef, ftype.value_field(fdef).deserialize(default))
                )
            if source:
                row[source] = value
            elif value is not None:
                related.append((fdef, value))
        with self._integrity(entity, catalog):
            record_id = int(
                conn.execute(sa.insert(table).values(row).returning(table.c.id)).scalar_one()
            )
            for fdef, value in related:
                self._save_related(conn, catalog, entity, fdef, record_id, value, user_id)
            self._recompute(conn, catalog, entity, record_id, data)
        return record_id

    def update(
        self,
        entity_name: str,
        record_id: int,
        data: Any,
        *,
        expected_version: int | None,
        user_id: int | None = None,
        actor: User | None = None,
    ) -> dict[str, Any]:
        if actor is not None:
            user_id = actor.id
        if isinstance(data, dict) and "version" in data:
            data = dict(data)
            body_version = data.pop("version")
            if isinstance(body_version, bool) or not isinstance(body_version, int):
                raise ValidationError(
                    msg("The version must be an integer."),
                    fields={"version": msg("Must be an integer.")},
                )
            expected_version = body_version if expected_version is None else expected_version
        if expected_version is None:
            raise ValidationError(
                msg(
                    "Say which version of the record you changed: send it in the If-Match "
                    'header or as "version" in the body.'
                ),
                fields={"version": msg("Required for updates.")},
            )
        with db.write(self.engine, first=VERSION_LOCK) as conn:
            catalog = self.cache.current(conn, for_write=True)
            entity = catalog.entity(entity_name)
            rights = self._authorize(conn, entity, actor, "read", "update")
            acl.check_writable(rights, data, entity)
            values = validate_values(
                conn,
                catalog,
                acl.view(entity, rights),
                data,
                partial=True,
                allowed_extra=_extra(entity),
            )
            acl.check_owner_value(conn, rights, actor, values)
            self._check_reachable(conn, catalog, entity, values, actor)
            # the SET clause: the WHERE below holds the version at expected_version
            row: dict[str, Any] = {
                "version": expected_version + 1,
                "updated_at": systables.utcnow(),
                "updated_by": user_id,
            }
            if "parent" in values:
                row["parent_id"] = self._check_parent(
                    conn, catalog, entity, record_id, values.pop("parent")
                )
            related = []
            for fdef in entity.fields:
                if fdef.name not in values:
                    continue
                source = catalog.type_of(fdef).source_column(fdef)
                if source:
                    row[source] = values[fdef.name]
                else:
                    related.append((fdef, values[fdef.name]))
            params = {
                **row,
                statements.RECORD_ID: record_id,
                statements.EXPECTED_VERSION: expected_version,
            }
            # the input is checked first on both databases, then the record: PostgreSQL,
            # with every record within the actor's rule, has the UPDATE return the record
            # as it was too (one round trip less); otherwise it is read (and its rule
            # checked) here
            one_statement = (
                conn.dialect.name == "postgresql"
                and acl.scope_condition(rights, actor, entity, catalog.table(entity)) is None
            )
            before = (
                None
                if one_statement
                else self._writable(conn, catalog, entity, record_id, rights, actor)
            )
            changed: Mapping[Any, Any] | None
            with self._integrity(entity, catalog):
                # the changed row comes back with the UPDATE: no second read
                if one_statement:
                    with db.prepared_statements(conn):  # by id: one plan
                        found = (
                            conn.execute(
                                statements.update_returning_before(catalog, entity), params
                            )
                            .mappings()
                            .first()
                        )
                    changed, old = statements.split_before(found) if found else (None, None)
                    if old is not None:  # with its lines, before they are saved below
                        before = rows_to_json(conn, catalog, entity, [old])[0]
                else:
                    with db.prepared_statements(conn):
                        changed = (
                            conn.execute(statements.update_returning(catalog, entity), params)
                            .mappings()
                            .first()
                        )
                if changed is None:
                    raise self._stale(conn, catalog, entity, record_id, expected_version)
                assert before is not None
                for fdef, value in related:
                    self._save_related(conn, catalog, entity, fdef, record_id, value, user_id)
                recomputed = self._recompute(conn, catalog, entity, record_id, data)
            # child lines and many-to-many items load here, after they were saved (computed
            # values change the row the UPDATE returned: then it is read again)
            after = (
                self._fetch(conn, catalog, entity, record_id)
                if recomputed
                else rows_to_json(conn, catalog, entity, [changed])[0]
            )
            diff = changes(_audited(before), _audited(after))
            if diff:
                self.audit.record(
                    conn, "record.update", actor=actor, entity=entity.name, record_id=record_id,
                    details={"changes": diff, "version": after["version"]},
                )
            return acl.strip_hidden(after, rights)

    def _writable(
        self,
        conn: sa.Connection,
        catalog: Catalog,
        entity: EntityDef,
        record_id: int,
        rights: acl.EntityRights,
        actor: User | None,
    ) -> dict[str, Any]:
        """The record as it is, if the actor may change it (NotFound if it may not see it)."""
        table = catalog.table(entity)
        current = self._fetch(
            conn, catalog, entity, record_id, acl.read_condition(rights, actor, entity, table)
        )
        scope = acl.scope_condition(rights, actor, entity, table)
        if scope is not None and conn.execute(
            sa.select(table.c.id).where(table.c.id == record_id, scope)
        ).first() is None:
            raise PermissionDenied(
                msg(
                    "You may only read this {entity}: it is not one of your records.",
                    entity=entity.label,
                ),
                extra={"entity": entity.name, "record": record_id},
            )
        return current

    def delete(
        self,
        entity_name: str,
        record_id: int,
        *,
        expected_version: int | None = None,
        actor: User | None = None,
    ) -> None:
        with db.write(self.engine, first=VERSION_LOCK) as conn:
            catalog = self.cache.current(conn, for_write=True)
            entity = catalog.entity(entity_name)
            rights = self._authorize(conn, entity, actor, "read", "delete")
            table = catalog.table(entity)
            before = self._writable(conn, catalog, entity, record_id, rights, actor)
            self._check_restrict(conn, catalog, entity, record_id)
            cond = [table.c.id == record_id]
            if expected_version is not None:
                cond.append(table.c.version == expected_version)
            with self._integrity(entity, catalog):
                done = conn.execute(sa.delete(table).where(*cond))
            if done.rowcount != 1:
                raise self._stale(conn, catalog, entity, record_id, expected_version or 0)
            self.audit.record(
                conn, "record.delete", actor=actor, entity=entity.name, record_id=record_id,
                details={"values": _audited(before)},
            )

    # --- helpers ----------------------------------------------------------------------

    def _check_reachable(
        self,
        conn: sa.Connection,
        catalog: Catalog,
        entity: EntityDef,
        values: Mapping[str, Any],
        actor: User | None,
    ) -> None:
        """A link may only point at records the actor can see: another manager's hidden
        client reads as missing, so ids cannot be probed through links either."""
        if actor is None or actor.is_admin:
            return
        errors: dict[str, str] = {}
        for fdef in entity.fields:
            if fdef.name not in values:
                continue
            ftype = catalog.type_of(fdef)
            target_name = ftype.reference_target(fdef)
            ids = ftype.referenced_ids(fdef, values[fdef.name]) if target_name else []
            if not ids or target_name is None:
                continue
            target = catalog.entity(target_name)
            rights = self.access.rights(conn, actor, target)
            table = catalog.table(target)
            allowed = acl.read_condition(rights, actor, target, table)
            if "read" in rights.actions and allowed is None:
                continue
            cond = [table.c.id.in_(ids)] + ([allowed] if allowed is not None else [])
            seen = set() if "read" not in rights.actions else set(
                conn.execute(sa.select(table.c.id).where(*cond)).scalars()
            )
            missing = [i for i in ids if i not in seen]
            if missing:
                errors[fdef.name] = msg(
                    "There is no {entity} with id {record_id}.",
                    entity=target.label, record_id=missing[0],
                )
        if errors:
            raise ValidationError(
                msg(
                    "The {entity} was not saved: {problems}",
                    entity=entity.label,
                    problems=joined(
                        (msg("{field}: {problem}", field=k, problem=v) for k, v in errors.items()),
                        "; ",
                    ),
                ),
                fields=errors,
            )

    def _recompute(
        self, conn: sa.Connection, catalog: Catalog, entity: EntityDef, record_id: int, sent: Any
    ) -> bool:
        """Computed fields of the record and its lines, worked out in this transaction;
        whether the entity has any."""
        if not has_computed(catalog, entity):
            return False
        recompute(conn, catalog, entity, record_id, sent,
                  lambda: self._fetch(conn, catalog, entity, record_id))
        return True

    def _save_related(
        self,
        conn: sa.Connection,
        catalog: Catalog,
        entity: EntityDef,
        fdef: FieldDef,
        record_id: int,
        value: Any,
        user_id: int | None,
    ) -> None:
        catalog.type_of(fdef).save(conn, fdef, catalog, record_id, value)

    def _check_parent(
        self,
        conn: sa.Connection,
        catalog: Catalog,
        entity: EntityDef,
        record_id: int,
        parent: int | None,
    ) -> int | None:
        if parent is None:
            return None
        table = catalog.table(entity)
        seen: set[int] = set()
        current: int | None = parent
        while current is not None:
            if current == record_id or current in seen:
                raise ValidationError(
                    msg("A {entity} cannot be placed under itself.", entity=entity.label),
                    fields={"parent": msg("This would make a loop.")},
                )
            seen.add(current)
            found = conn.execute(sa.select(table.c.parent_id).where(table.c.id == current)).first()
            if found is None:
                raise ValidationError(
                    msg(
                        "There is no {entity} with id {current}.",
                        entity=entity.label, current=current,
                    ),
                    fields={"parent": msg("No such record.")},
                )
            current = found[0]
        return parent

    def _check_restrict(
        self, conn: sa.Connection, catalog: Catalog, entity: EntityDef, record_id: int
    ) -> None:
        for owner, fdef in catalog.fields_targeting(entity):
            ftype = catalog.type_of(fdef)
            source = ftype.source_column(fdef)
            if (
                owner.removed
                or source is None
                or fdef.options.get("on_delete", "restrict") != "restrict"
            ):
                continue
            table = catalog.table(owner)
            count = conn.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c[source] == record_id)
            ).scalar_one()
            if count:
                raise Conflict(
                    msg(
                        "This {entity} cannot be deleted: {count} {owner} refer to it through "
                        "'{field}'.",
                        entity=entity.label,
                        count=count,
                        owner=owner.label_plural,
                        field=fdef.label,
                    ),
                )
        if entity.tree:
            table = catalog.table(entity)
            count = conn.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c.parent_id == record_id)
            ).scalar_one()
            if count:
                raise Conflict(
                    msg(
                        "This {entity} cannot be deleted: {count} entries are under it.",
                        entity=entity.label, count=count,
                    )
                )

    def _stale(
        self,
        conn: sa.Connection,
        catalog: Catalog,
        entity: EntityDef,
        record_id: int,
        expected: int,
    ) -> Conflict | NotFound:
        table = catalog.table(entity)
        users = systables.users
        row = conn.execute(
            sa.select(table.c.version, table.c.updated_at, users.c.name, users.c.login)
            .select_from(table.outerjoin(users, users.c.id == table.c.updated_by))
            .where(table.c.id == record_id)
        ).first()
        if row is None:
            return NotFound(msg(
                "There is no {entity} with id {record_id}.",
                entity=entity.label, record_id=record_id,
            ))
        who = row.name or row.login or msg("someone")
        when = row.updated_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return Conflict(
            msg(
                "This {entity} was changed by {who} at {when} after you opened it (you have "
                "version {expected}, the current one is {version}); nothing was saved. Reload "
                "it and apply your change again.",
                entity=entity.label, who=who, when=when, expected=expected, version=row.version,
            ),
            extra={
                "current_version": row.version,
                "changed_by": who,
                "changed_at": row.updated_at.isoformat(),
            },
        )

    def _integrity(self, entity: EntityDef, catalog: Catalog) -> _IntegrityGuard:
        return _IntegrityGuard(entity, catalog)


class _IntegrityGuard:
    """Turns a constraint violation the checks could not foresee (a race) into a sentence."""

    def __init__(self, entity: EntityDef, catalog: Catalog) -> None:
        self.entity = entity
        self.catalog = catalog

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if not isinstance(exc, IntegrityError):
            return
        text = str(exc.orig)
        for fdef in self.entity.fields:
            pattern = (
                rf"\b({unique_index_name(self.entity, fdef)}|{self.entity.table}\.{fdef.column})\b"
            )
            if re.search(pattern, text):
                raise Conflict(
                    msg(
                        "Another {entity} already has this {field}.",
                        entity=self.entity.label, field=fdef.label,
                    ),
                    fields={fdef.name: msg("This value is already taken.")},
                ) from exc
        raise Conflict(
            msg(
                "The {entity} was not saved: it refers to a record that does not exist or is "
                "still referred to by others.",
                entity=self.entity.label,
            ),
        ) from exc


def title_text(catalog: Catalog, title: FieldDef, record_id: int, value: Any) -> str:
    """How a linked record is shown: its title field's value, or #id without one."""
    ftype = catalog.type_of(title)
    return ftype.display(title, ftype.to_json(title, value)) or f"#{record_id}"


def _titles_of_rows(
    catalog: Catalog, linked: list[statements.TitleColumn], rows: Sequence[sa.RowMapping]
) -> dict[str, dict[str, str]]:
    """{target: {id: title}} of the records a page's rows link to, whose titles came
    with the rows (``statements.select_with_titles``): what ``RecordService.titles``
    gives for their ids."""
    out: dict[str, dict[str, str]] = {}
    for link in linked:
        for row in rows:
            rid = row[link.field.column]
            if rid is None:
                continue
            found = out.setdefault(link.target, {})
            if link.title is None:
                found[str(rid)] = f"#{rid}"
            elif link.allowed is None or row[link.seen_label] is not None:
                found[str(rid)] = title_text(catalog, link.title, rid, row[link.title_label])
    return out


def title_field(catalog: Catalog, entity: EntityDef) -> FieldDef | None:
    if entity.title_field and entity.has_field(entity.title_field):
        return entity.field(entity.title_field)
    for fdef in entity.fields:
        ftype = catalog.type_of(fdef)
        if ftype.searchable and ftype.source_column(fdef):
            return fdef
    return None


def _audited(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("id", "version")}


def _extra(entity: EntityDef) -> frozenset[str]:
    return frozenset({"parent"}) if entity.tree else frozenset()
