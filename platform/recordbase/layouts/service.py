"""LayoutService: the saved layouts of entities, their versions and the designer's drafts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from recordbase import db, systables
from recordbase.catalog import Catalog, CatalogCache
from recordbase.errors import NotFound, PermissionDenied, ValidationError
from recordbase.layouts.automatic import automatic
from recordbase.layouts.check import check_layout
from recordbase.layouts.compare import compare_layouts
from recordbase.layouts.parse import THE_LAYOUT
from recordbase.messages import msg
from recordbase.model import EntityDef

if TYPE_CHECKING:
    from recordbase.audit import AuditService
    from recordbase.users import User

KINDS = ("form", "list")
MAX_NOTE = 200


@dataclass(frozen=True)
class LayoutVersion:
    """One saved version of a layout (versions are never changed, only added)."""

    entity: str
    kind: str
    role: str | None
    number: int
    author: str | None
    author_id: int | None
    created_at: dt.datetime
    note: str
    body: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.number,
            "author": self.author,
            "created_at": self.created_at.isoformat(),
            "role": self.role,
            "note": self.note,
            "layout": self.body,
        }


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound(msg(
            "There is no layout kind '{kind}'; the kinds are form and list.",
            kind=kind,
        ))
    return kind


def field_ids(body: Any) -> set[int]:
    """Every field id a layout refers to (its own fields, not related lists')."""
    out: set[int] = set()
    if not isinstance(body, dict):
        return out
    for column in body.get("columns", []) + body.get("sort", []):
        if isinstance(column, dict) and isinstance(column.get("field"), int):
            out.add(column["field"])
    for tab in body.get("tabs", []):
        for section in tab.get("sections", []) if isinstance(tab, dict) else []:
            for element in section.get("elements", []) if isinstance(section, dict) else []:
                if (
                    isinstance(element, dict)
                    and element.get("type") in ("field", "child_table")
                    and isinstance(element.get("field"), int)
                ):
                    out.add(element["field"])
    return out


def purged_ids(catalog: Catalog, body: Any) -> set[int]:
    """The field ids of ``body`` that no entity holds any more (purged fields)."""
    known = {f.id for ent in catalog.entities.values() for f in ent.all_fields}
    return field_ids(body) - known


class LayoutService:
    """Form and list layouts of entities: saved versions (admin only), drafts, and the
    automatic layout when nothing was saved. Entities are named by API name; a layout
    belongs to the entity by id, so renaming the entity or a field keeps it."""

    def __init__(self, engine: sa.Engine, cache: CatalogCache, audit: AuditService) -> None:
        self.engine = engine
        self.cache = cache
        self.audit = audit

    # --- reading ----------------------------------------------------------------------

    def effective(self, entity: str, kind: str = "form", role: str | None = None) -> dict[str, Any]:
        """The layout in force: the role's saved one, else the general one, else automatic."""
        saved = self.current(entity, kind, role)
        return saved.body if saved is not None else self.automatic(entity, kind)

    def current(
        self, entity: str, kind: str = "form", role: str | None = None
    ) -> LayoutVersion | None:
        """The saved version in force for ``role`` (its own, else the general one), if any."""
        check_kind(kind)
        with db.read(self.engine) as conn:
            ent = self.cache.current(conn).entity(entity)
            for who in ([role] if role else []) + [None]:
                found = self._latest(conn, ent, kind, who)
                if found is not None:
                    return found
        return None

    def automatic(self, entity: str, kind: str) -> dict[str, Any]:
        check_kind(kind)
        with db.read(self.engine) as conn:
            catalog = self.cache.current(conn)
            return automatic(catalog, catalog.entity(entity), kind)

    def validate(self, entity: str, kind: str, body: Any) -> dict[str, Any]:
        """``body`` checked against this entity and normalised; ValidationError names the
        place of every problem (``tabs[0].sections[1].elements[3].width: …``)."""
        check_kind(kind)
        with db.read(self.engine) as conn:
            catalog = self.cache.current(conn)
            ent = catalog.entity(entity)
            return self._check(conn, catalog, ent, kind, body, None)

    def versions(self, entity: str, kind: str, role: str | None = None) -> list[LayoutVersion]:
        """The saved versions of the layout of ``role`` (None: the general one), newest first."""
        check_kind(kind)
        with db.read(self.engine) as conn:
            ent = self.cache.current(conn).entity(entity)
            return self._select(conn, ent, kind, role)

    def version(
        self, entity: str, kind: str, number: int, role: str | None = None
    ) -> LayoutVersion:
        check_kind(kind)
        with db.read(self.engine) as conn:
            ent = self.cache.current(conn).entity(entity)
            found = self._select(conn, ent, kind, role, number=number)
        if not found:
            raise NotFound(msg(
                "The {kind} layout of {entity} has no version {number}.",
                kind=kind, entity=entity, number=number,
            ))
        return found[0]

    def compare(
        self, entity: str, kind: str, old: int, new: int, role: str | None = None
    ) -> dict[str, Any]:
        """What changed from version ``old`` to version ``new`` (``layouts.compare``)."""
        return compare_layouts(
            self.version(entity, kind, old, role).body, self.version(entity, kind, new, role).body
        )

    # --- saving (administrators) --------------------------------------------------------

    def save(
        self,
        entity: str,
        kind: str,
        body: Any,
        *,
        actor: User | None,
        role: str | None = None,
        note: str | None = None,
    ) -> LayoutVersion:
        """A new version of the layout (the actor's draft of it is discarded)."""
        check_kind(kind)
        _admin(actor)
        if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
            raise ValidationError(
                msg("note: at most {max_note} characters of text.", max_note=MAX_NOTE),
                fields={"note": msg("At most {max_note} characters.", max_note=MAX_NOTE)},
            )
        return self._add_version(entity, kind, body, actor=actor, role=role, note=note,
                                 event="layout.save", details={"note": note})

    def revert(
        self, entity: str, kind: str, number: int, *, actor: User | None, role: str | None = None
    ) -> LayoutVersion:
        """A new version equal to version ``number`` (checked against today's fields)."""
        _admin(actor)
        old = self.version(entity, kind, number, role)
        return self._add_version(entity, kind, old.body, actor=actor, role=role,
                                 note=f"Reverted to version {number}", event="layout.revert",
                                 details={"from": number}, old=True)

    def _add_version(
        self,
        entity: str,
        kind: str,
        body: Any,
        *,
        actor: User | None,
        role: str | None,
        note: str | None,
        event: str,
        details: dict[str, Any],
        old: bool = False,
    ) -> LayoutVersion:
        """Check ``body``, store it as the next version and audit ``event`` (its kind, role,
        number and ``details``), in one transaction. An ``old`` body (a revert) may name
        fields purged since: they are left out, not refused."""
        with db.write(self.engine) as conn:
            catalog = self.cache.current(conn)
            ent = catalog.entity(entity)
            self._check_role(conn, role)
            kept = purged_ids(catalog, body) if old else set()
            normal = self._check(conn, catalog, ent, kind, body, role, kept=kept)
            number = self.store(conn, ent, kind, normal, actor=actor, role=role, note=note)
            self.audit.record(
                conn, event, actor=actor, entity=ent.name,
                details={"kind": kind, "role": role, "version": number, **details},
            )
        return self.version(entity, kind, number, role)

    def store(
        self,
        conn: sa.Connection,
        ent: EntityDef,
        kind: str,
        body: dict[str, Any],
        *,
        actor: User | None,
        role: str | None = None,
        note: str | None = None,
    ) -> int:
        """Add a checked, normalised layout as the next version in the caller's transaction
        (config apply uses this); the actor's draft of it goes. Returns the number."""
        t = systables.layout_versions
        if conn.dialect.name == "postgresql":  # one numbering at a time per entity
            conn.execute(
                sa.select(systables.entities.c.id)
                .where(systables.entities.c.id == ent.id)
                .with_for_update()
            )
        last = conn.execute(
            sa.select(sa.func.max(t.c.number)).where(
                t.c.entity_id == ent.id, t.c.kind == kind, t.c.role == (role or "")
            )
        ).scalar()
        number = int(last or 0) + 1
        conn.execute(
            sa.insert(t).values(
                entity_id=ent.id, kind=kind, role=role or "", number=number, body=body,
                author_id=actor.id if actor else None, created_at=systables.utcnow(),
                note=note or "",
            )
        )
        if actor is not None:
            self._delete_draft(conn, ent, kind, actor.id, role)
        return number

    # --- drafts ---------------------------------------------------------------------------

    def draft(
        self, entity: str, kind: str, user_id: int, role: str | None = None
    ) -> dict[str, Any] | None:
        check_kind(kind)
        d = systables.layout_drafts
        with db.read(self.engine) as conn:
            ent = self.cache.current(conn).entity(entity)
            body: dict[str, Any] | None = conn.execute(
                sa.select(d.c.body).where(*_draft_key(ent, kind, user_id, role))
            ).scalar()
        return body

    def save_draft(
        self, entity: str, kind: str, body: Any, user_id: int, role: str | None = None
    ) -> dict[str, Any]:
        """Keep ``body`` (checked, normalised) as the user's draft; returns what was kept."""
        check_kind(kind)
        d = systables.layout_drafts
        with db.write(self.engine) as conn:
            catalog = self.cache.current(conn)
            ent = catalog.entity(entity)
            self._check_role(conn, role)
            normal = self._check(conn, catalog, ent, kind, body, role)
            conn.execute(sa.delete(d).where(*_draft_key(ent, kind, user_id, role)))
            conn.execute(
                sa.insert(d).values(
                    entity_id=ent.id, kind=kind, role=role or "", user_id=user_id, body=normal,
                    updated_at=systables.utcnow(),
                )
            )
        return normal

    def discard_draft(
        self, entity: str, kind: str, user_id: int, role: str | None = None
    ) -> None:
        check_kind(kind)
        with db.write(self.engine) as conn:
            ent = self.cache.current(conn).entity(entity)
            self._delete_draft(conn, ent, kind, user_id, role)

    # --- inside ---------------------------------------------------------------------------

    def check(
        self,
        conn: sa.Connection,
        catalog: Catalog,
        ent: EntityDef,
        kind: str,
        body: Any,
        *,
        role: str | None = None,
        what: str = THE_LAYOUT,
    ) -> dict[str, Any]:
        """``validate`` in the caller's transaction (config apply)."""
        return self._check(conn, catalog, ent, kind, body, role, what=what)

    def _check(
        self,
        conn: sa.Connection,
        catalog: Catalog,
        ent: EntityDef,
        kind: str,
        body: Any,
        role: str | None,
        *,
        kept: Iterable[int] = (),
        what: str = THE_LAYOUT,
    ) -> dict[str, Any]:
        saved = self._latest(conn, ent, kind, role)
        missing = set(kept) | (purged_ids(catalog, saved.body) if saved else set())
        files = systables.files

        def file_exists(file_id: int) -> bool:
            found = conn.execute(sa.select(files.c.id).where(files.c.id == file_id)).first()
            return found is not None

        return check_layout(
            catalog, ent, kind, body, kept=missing, file_exists=file_exists, what=what
        )

    def _check_role(self, conn: sa.Connection, role: str | None) -> None:
        if role is None:
            return
        roles = systables.roles
        if conn.execute(sa.select(roles.c.id).where(roles.c.name == role)).first() is None:
            raise NotFound(
                msg("There is no role named '{name}'.", name=role),
                fields={"role": msg("Unknown role.")},
            )

    def _latest(
        self, conn: sa.Connection, ent: EntityDef, kind: str, role: str | None
    ) -> LayoutVersion | None:
        found = self._select(conn, ent, kind, role, limit=1)
        return found[0] if found else None

    def _select(
        self,
        conn: sa.Connection,
        ent: EntityDef,
        kind: str,
        role: str | None,
        *,
        number: int | None = None,
        limit: int | None = None,
    ) -> list[LayoutVersion]:
        t, users = systables.layout_versions, systables.users
        stmt = (
            sa.select(t, users.c.login)
            .select_from(t.outerjoin(users, users.c.id == t.c.author_id))
            .where(t.c.entity_id == ent.id, t.c.kind == kind, t.c.role == (role or ""))
            .order_by(t.c.number.desc())
        )
        if number is not None:
            stmt = stmt.where(t.c.number == number)
        if limit is not None:
            stmt = stmt.limit(limit)
        return [
            LayoutVersion(
                entity=ent.name, kind=kind, role=r["role"] or None, number=r["number"],
                author=r["login"], author_id=r["author_id"], created_at=r["created_at"],
                note=r["note"], body=r["body"],
            )
            for r in conn.execute(stmt).mappings()
        ]

    def _delete_draft(
        self, conn: sa.Connection, ent: EntityDef, kind: str, user_id: int, role: str | None
    ) -> None:
        d = systables.layout_drafts
        conn.execute(sa.delete(d).where(*_draft_key(ent, kind, user_id, role)))


def _draft_key(
    ent: EntityDef, kind: str, user_id: int, role: str | None
) -> tuple[sa.ColumnElement[bool], ...]:
    d = systables.layout_drafts
    return (
        d.c.entity_id == ent.id,
        d.c.kind == kind,
        d.c.role == (role or ""),
        d.c.user_id == user_id,
    )


def _admin(actor: User | None) -> None:
    """Only administrators change layouts (None: the system itself, e.g. config apply)."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(msg("Only an administrator may change layouts."))
