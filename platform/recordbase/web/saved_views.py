"""Saved views: a named list query string (filters, sort, columns, search) per entity,
personal or shared with every user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from recordbase import db, systables
from recordbase.errors import NotFound, PermissionDenied, ValidationError
from recordbase.runtime import Runtime
from recordbase.users import User

MAX_NAME = 200
MAX_QUERY = 4000


@dataclass(frozen=True)
class SavedView:
    id: int
    entity: str
    name: str
    owner_id: int
    shared: bool
    query: str


def _from_row(row: Any) -> SavedView:
    return SavedView(int(row[0]), str(row[1]), str(row[2]), int(row[3]), bool(row[4]),
                     str(row[5]))


def _columns() -> tuple[sa.ColumnElement[object], ...]:
    t = systables.saved_views
    return (t.c.id, t.c.entity, t.c.name, t.c.owner_id, t.c.shared, t.c.query)


def visible(rt: Runtime, entity: str, user: User) -> list[SavedView]:
    t = systables.saved_views
    with db.read(rt.engine) as conn:
        rows = conn.execute(
            sa.select(*_columns())
            .where(t.c.entity == entity, sa.or_(t.c.owner_id == user.id, t.c.shared.is_(True)))
            .order_by(t.c.name, t.c.id)
            .limit(200)
        ).all()
    return [_from_row(r) for r in rows]


def get(rt: Runtime, entity: str, view_id: int, user: User) -> SavedView:
    t = systables.saved_views
    with db.read(rt.engine) as conn:
        row = conn.execute(sa.select(*_columns()).where(t.c.id == view_id)).first()
    view = _from_row(row) if row is not None else None
    if view is None or view.entity != entity or not (view.shared or view.owner_id == user.id):
        raise NotFound(f"There is no saved view {view_id} of this list.")
    return view


def _checked(name: str, query: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise ValidationError(
            "A view's name is 1 to 200 characters.", fields={"name": "1 to 200 characters."}
        )
    if len(query) > MAX_QUERY:
        raise ValidationError("The view is too long to be saved.", fields={"query": "Too long."})
    return name


def editable(view: SavedView, user: User) -> bool:
    """Only a view's owner or an administrator may change or delete it."""
    return view.owner_id == user.id or user.is_admin


def save(rt: Runtime, entity: str, name: str, query: str, shared: bool, user: User) -> int:
    name = _checked(name, query)
    t = systables.saved_views
    with db.write(rt.engine) as conn:
        return int(
            conn.execute(
                sa.insert(t)
                .values(
                    entity=entity, name=name, owner_id=user.id, shared=shared, query=query,
                    created_at=systables.utcnow(),
                )
                .returning(t.c.id)
            ).scalar_one()
        )


def update(
    rt: Runtime, entity: str, view_id: int, name: str, query: str, shared: bool, user: User
) -> int:
    """Save over a view: its name, its query (filters, sort, columns) and whether it is
    shared; the owner stays."""
    view = get(rt, entity, view_id, user)
    if not editable(view, user):
        raise PermissionDenied(
            f"Only the owner of the view “{view.name}” or an administrator may change it; "
            "save it as a new view instead."
        )
    name = _checked(name, query)
    t = systables.saved_views
    with db.write(rt.engine) as conn:
        conn.execute(
            sa.update(t).where(t.c.id == view.id).values(name=name, query=query, shared=shared)
        )
    return view.id


def delete(rt: Runtime, entity: str, view_id: int, user: User) -> None:
    view = get(rt, entity, view_id, user)
    if not editable(view, user):
        raise PermissionDenied("Only the owner of a shared view or an administrator may delete it.")
    t = systables.saved_views
    with db.write(rt.engine) as conn:
        conn.execute(sa.delete(t).where(t.c.id == view.id))
