"""The template store: templates per entity in the database, in numbered revisions.

A revision is never changed once written. Saving writes the next revision and
points the template at it; reverting writes a new revision copying an old one
(so the history reads as it happened), with a note saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from recordbase import db, systables
from recordbase.errors import Conflict, NotFound
from recordbase.messages import msg
from recordbase.model import EntityDef
from recordbase.printing.spec import TemplateData

T = systables.print_templates
R = systables.print_template_revisions
U = systables.users
#: how a sentence names a template of each kind


@dataclass(frozen=True)
class StoredTemplate:
    id: int
    entity_id: int
    name: str
    kind: str
    revision: int
    revision_id: int
    label: str
    scope: str
    locale: str
    body: str
    css: str
    page: dict[str, Any]
    docx: bytes | None
    author: str | None
    updated_at: Any
    note: str

    @property
    def data(self) -> TemplateData:
        return TemplateData(
            name=self.name,
            label=self.label,
            body=self.body,
            css=self.css,
            page=dict(self.page),
            scope=self.scope,
            locale=self.locale,
        )


def _current() -> sa.Select[Any]:
    return (
        sa.select(
            T.c.id,
            T.c.entity_id,
            T.c.name,
            T.c.kind,
            T.c.revision,
            R.c.id.label("revision_id"),
            R.c.label,
            R.c.scope,
            R.c.locale,
            R.c.body,
            R.c.css,
            R.c.page,
            R.c.docx,
            sa.func.coalesce(U.c.name, U.c.login).label("author"),
            R.c.created_at.label("updated_at"),
            R.c.note,
        )
        .select_from(
            T.join(R, sa.and_(R.c.template_id == T.c.id, R.c.number == T.c.revision)).outerjoin(
                U, U.c.id == R.c.author_id
            )
        )
    )


def _stored(row: Mapping[str, Any] | sa.RowMapping) -> StoredTemplate:
    values = dict(row)
    values["page"] = dict(values["page"] or {})
    values["docx"] = bytes(values["docx"]) if values["docx"] is not None else None
    return StoredTemplate(**values)


class TemplateStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def all(self, entity_ids: list[int] | None = None) -> list[StoredTemplate]:
        stmt = _current().order_by(T.c.entity_id, T.c.name)
        if entity_ids is not None:
            stmt = stmt.where(T.c.entity_id.in_(entity_ids))
        with db.read(self.engine) as conn:
            return [_stored(r) for r in conn.execute(stmt).mappings()]

    def get(self, entity: EntityDef, name: str) -> StoredTemplate:
        with db.read(self.engine) as conn:
            row = (
                conn.execute(_current().where(T.c.entity_id == entity.id, T.c.name == name))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(msg(
                "{entities} have no print template named '{name}'.",
                entities=entity.label_plural, name=name,
            ))
        return _stored(row)

    def create(
        self,
        entity: EntityDef,
        data: TemplateData,
        *,
        kind: str = "html",
        docx: bytes | None = None,
        user_id: int | None,
        note: str = "",
    ) -> StoredTemplate:
        try:
            with db.write(self.engine) as conn:
                template_id = conn.execute(
                    sa.insert(T)
                    .values(entity_id=entity.id, name=data.name, kind=kind, revision=1)
                    .returning(T.c.id)
                ).scalar_one()
                self._revision(conn, template_id, 1, data, docx, user_id, note or "Created.")
        except IntegrityError as exc:
            raise Conflict(
                msg(
                    "{entities} already have a print template named '{name}'.",
                    entities=entity.label_plural, name=data.name,
                ),
                fields={"name": msg("Already taken.")},
            ) from exc
        return self.get(entity, data.name)

    def save(
        self,
        entity: EntityDef,
        name: str,
        data: TemplateData,
        *,
        docx: bytes | None = None,
        keep_docx: bool = True,
        user_id: int | None,
        note: str = "",
    ) -> StoredTemplate:
        """Write the next revision (and rename the template if ``data.name`` differs)."""
        current = self.get(entity, name)
        if keep_docx and docx is None:
            docx = current.docx
        number = current.revision + 1
        try:
            with db.write(self.engine) as conn:
                done = conn.execute(
                    sa.update(T)
                    .where(T.c.id == current.id, T.c.revision == current.revision)
                    .values(revision=number, name=data.name)
                )
                if done.rowcount != 1:
                    raise Conflict(
                        msg(
                            "The template '{name}' was changed by someone else meanwhile; "
                            "nothing was saved. Reload it and save again.",
                            name=name,
                        )
                    )
                self._revision(conn, current.id, number, data, docx, user_id, note)
        except IntegrityError as exc:
            raise Conflict(
                msg(
                    "{entities} already have a print template named '{name}'.",
                    entities=entity.label_plural, name=data.name,
                ),
                fields={"name": msg("Already taken.")},
            ) from exc
        return self.get(entity, data.name)

    def _revision(
        self,
        conn: sa.Connection,
        template_id: int,
        number: int,
        data: TemplateData,
        docx: bytes | None,
        user_id: int | None,
        note: str,
    ) -> None:
        conn.execute(
            sa.insert(R).values(
                template_id=template_id,
                number=number,
                label=data.label,
                scope=data.scope,
                locale=data.locale,
                body=data.body,
                css=data.css,
                page=data.page,
                docx=docx,
                author_id=user_id,
                note=note[:200],
            )
        )

    def write_in(
        self,
        conn: sa.Connection,
        entity: EntityDef,
        data: TemplateData,
        *,
        user_id: int | None,
        note: str,
        docx: bytes | None = None,
    ) -> bool:
        """Create the template, or save it as the next revision when its content differs,
        inside the caller's transaction (config apply); whether anything was written.
        With ``docx`` it is a Word template, else an HTML one; neither replaces the other."""
        kind = "html" if docx is None else "docx"
        row = (
            conn.execute(_current().where(T.c.entity_id == entity.id, T.c.name == data.name))
            .mappings()
            .first()
        )
        if row is None:
            template_id = conn.execute(
                sa.insert(T)
                .values(entity_id=entity.id, name=data.name, kind=kind, revision=1)
                .returning(T.c.id)
            ).scalar_one()
            self._revision(conn, template_id, 1, data, docx, user_id, note)
            return True
        current = _stored(row)
        if current.kind != kind:
            raise Conflict(
                msg(
                    "{entities} have a Word template named '{name}'; an HTML template file "
                    "cannot replace it.",
                    entities=entity.label_plural, name=data.name,
                )
                if current.kind == "docx"
                else msg(
                    "{entities} have an HTML template named '{name}'; a Word template file "
                    "cannot replace it.",
                    entities=entity.label_plural, name=data.name,
                ),
                fields={"name": msg("A Word template has this name.")
                        if current.kind == "docx" else msg("An HTML template has this name.")},
            )
        if current.data == data and current.docx == docx:
            return False
        conn.execute(sa.update(T).where(T.c.id == current.id)
                     .values(revision=current.revision + 1))
        self._revision(conn, current.id, current.revision + 1, data, docx, user_id, note)
        return True

    def revisions(self, entity: EntityDef, name: str) -> list[dict[str, Any]]:
        current = self.get(entity, name)
        stmt = (
            sa.select(
                R.c.number,
                R.c.label,
                R.c.created_at,
                R.c.note,
                sa.func.coalesce(U.c.name, U.c.login).label("author"),
            )
            .select_from(R.outerjoin(U, U.c.id == R.c.author_id))
            .where(R.c.template_id == current.id)
            .order_by(R.c.number.desc())
        )
        with db.read(self.engine) as conn:
            rows = conn.execute(stmt).mappings().all()
        return [
            {
                "number": r["number"],
                "label": r["label"],
                "author": r["author"],
                "at": r["created_at"].isoformat(),
                "note": r["note"],
                "current": r["number"] == current.revision,
            }
            for r in rows
        ]

    def revision(self, entity: EntityDef, name: str, number: int) -> tuple[TemplateData,
                                                                             bytes | None]:
        current = self.get(entity, name)
        with db.read(self.engine) as conn:
            row = (
                conn.execute(sa.select(R).where(R.c.template_id == current.id,
                                                R.c.number == number))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(msg(
                "The template '{name}' has no revision {number}.",
                name=name, number=number,
            ))
        data = TemplateData(
            name=current.name,
            label=row["label"],
            body=row["body"],
            css=row["css"],
            page=dict(row["page"] or {}),
            scope=row["scope"],
            locale=row["locale"],
        )
        return data, (bytes(row["docx"]) if row["docx"] is not None else None)

    def delete(self, entity: EntityDef, name: str) -> None:
        current = self.get(entity, name)
        with db.write(self.engine) as conn:
            conn.execute(sa.delete(R).where(R.c.template_id == current.id))
            conn.execute(sa.delete(T).where(T.c.id == current.id))
