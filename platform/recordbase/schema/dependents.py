"""What refers to an entity or a field, for previews of renames, removals and type changes.

References between metadata objects are by id where they can be (layouts and
print templates, from their own issues, add their finders here); the ones by name
that Recordbase keeps (an entity's title field, a link's target) are rewritten by
the operations and listed here so a preview shows each dependent it touches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from recordbase import systables
from recordbase.catalog import Catalog
from recordbase.messages import msg
from recordbase.model import EntityDef, FieldDef

FieldFinder = Callable[[Catalog, EntityDef, FieldDef], list[dict[str, Any]]]
EntityFinder = Callable[[Catalog, EntityDef], list[dict[str, Any]]]

FIELD_FINDERS: list[FieldFinder] = []
ENTITY_FINDERS: list[EntityFinder] = []


def title_field_users(catalog: Catalog, entity: EntityDef, fdef: FieldDef) -> list[dict[str, Any]]:
    if entity.title_field == fdef.name:
        return [
            {
                "kind": "title_field",
                "entity": entity.name,
                "text": msg("{entity} shows records by this field", entity=entity.name),
            }
        ]
    return []


def fields_targeting(catalog: Catalog, entity: EntityDef) -> list[dict[str, Any]]:
    return [
        {
            "kind": "field",
            "entity": owner.name,
            "field": f.name,
            "type": f.type,
            "text": msg(
                "{owner}.{field} ({type}) points at {entity}",
                owner=owner.name, field=f.name, type=f.type, entity=entity.name,
            ),
        }
        for owner, f in catalog.fields_targeting(entity)
        if not f.removed and not owner.removed
    ]


FIELD_FINDERS.append(title_field_users)
ENTITY_FINDERS.append(fields_targeting)


def field_dependents(catalog: Catalog, entity: EntityDef, fdef: FieldDef) -> list[dict[str, Any]]:
    return [d for finder in FIELD_FINDERS for d in finder(catalog, entity, fdef)]


def entity_dependents(catalog: Catalog, entity: EntityDef) -> list[dict[str, Any]]:
    return [d for finder in ENTITY_FINDERS for d in finder(catalog, entity)]


def delete_owned_rows(
    conn: sa.Connection, *, entity_id: int | None = None, field_ids: Sequence[int] = ()
) -> None:
    """Delete the system rows that belong to a purged entity or field.

    Their foreign keys cascade on PostgreSQL, but a SQLite purge may run with foreign
    keys off (table rebuilds): left alone, a role's field rule or a print template of
    the purged thing would break the integrity check at the end of the transaction.
    """
    fp = systables.field_permissions
    if field_ids:
        conn.execute(sa.delete(fp).where(fp.c.field_id.in_(list(field_ids))))
    if entity_id is None:
        return
    templates, revisions = systables.print_templates, systables.print_template_revisions
    owned_templates = sa.select(templates.c.id).where(templates.c.entity_id == entity_id)
    conn.execute(sa.delete(revisions).where(revisions.c.template_id.in_(owned_templates)))
    for table in (templates, systables.permissions, systables.layout_versions,
                  systables.layout_drafts):
        conn.execute(sa.delete(table).where(table.c.entity_id == entity_id))
