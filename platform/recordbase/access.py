"""Rights: roles, per-entity permissions, per-field access and row rules.

This module decides; ``RecordService`` asks it on every list, read, write, export,
print and import, so every way into the records (pages, API, exports, prints,
imports, search) meets the same rules.

- A role has a permission row per entity: the actions it may take (read, create,
  update, delete, export, print, import), a row rule, and per-field access
  (hidden or read-only). An entity without a row gets the role's
  ``default_access``: "all" (every action) or "none" (nothing). New roles start at
  "none" (deny by default); the built-in "user" role keeps "all" so that a fresh
  installation works before anyone writes rules, and "admin" always has every right.
- Row rule "own": a record is the user's own when its owner (a user field of the
  entity, or ``created_by``) is the user; "group": when the owner is in the user's
  group. Rows outside the rule are either read-only ("others": "read") or not
  seen at all ("hidden").
- Hidden fields vanish from the entity as the user sees it (``view``): they are not
  listed, read, filtered, sorted or searched on, and writing one is "no such field".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from recordbase import db, systables
from recordbase.catalog import Catalog, CatalogCache
from recordbase.errors import Conflict, NotFound, PermissionDenied, ValidationError
from recordbase.messages import Message, known, msg
from recordbase.model import EntityDef, FieldDef

if TYPE_CHECKING:
    from recordbase.users import User

ACTIONS = ("read", "create", "update", "delete", "export", "print", "import")
ROW_RULES = ("all", "own", "group")
OTHERS = ("read", "hidden")
FIELD_ACCESS = ("hidden", "read_only")
DEFAULT_ACCESS = ("all", "none")
BUILTIN = {"admin": ("Administrator", "all"), "user": ("User", "all")}
# the refusal per action, whole sentences so that each language words them its own way
DENIED = {
    "read": known("You may not see {entities}."),
    "create": known("You may not create {entities}."),
    "update": known("You may not change {entities}."),
    "delete": known("You may not delete {entities}."),
    "export": known("You may not export {entities}."),
    "print": known("You may not print {entities}."),
    "import": known("You may not import {entities}."),
}


@dataclass(frozen=True)
class EntityRights:
    """What one user may do with one entity."""

    actions: frozenset[str]
    row_rule: str = "all"
    others: str = "hidden"
    owner_field: str | None = None
    hidden: frozenset[str] = frozenset()
    read_only: frozenset[str] = frozenset()

    @property
    def full(self) -> bool:
        return (
            self.actions == FULL.actions
            and self.row_rule == "all"
            and not self.hidden
            and not self.read_only
        )


FULL = EntityRights(actions=frozenset(ACTIONS))
NOTHING = EntityRights(actions=frozenset())


def view(entity: EntityDef, rights: EntityRights) -> EntityDef:
    """The entity as this user sees it: hidden fields are gone."""
    if not rights.hidden:
        return entity
    kept = tuple(f for f in entity.all_fields if f.name not in rights.hidden)
    title = entity.title_field if entity.title_field not in rights.hidden else None
    return dataclasses.replace(entity, all_fields=kept, title_field=title)


def require(rights: EntityRights, action: str, entity: EntityDef) -> None:
    if action not in rights.actions:
        raise PermissionDenied(
            Message(DENIED[action], {"entities": entity.label_plural}),
            extra={"action": action, "entity": entity.name},
        )


def owner_column(
    rights: EntityRights, entity: EntityDef, table: sa.FromClause
) -> sa.ColumnElement[Any]:
    if rights.owner_field and entity.has_field(rights.owner_field):
        return table.c[entity.field(rights.owner_field).column]
    return table.c.created_by


def scope_condition(
    rights: EntityRights, actor: User | None, entity: EntityDef, table: sa.FromClause
) -> sa.ColumnElement[bool] | None:
    """The rows within the row rule (the user's own or group's); None: every row."""
    if actor is None or rights.row_rule == "all":
        return None
    owner = owner_column(rights, entity, table)
    if rights.row_rule == "group" and actor.group:
        users = systables.users
        return owner.in_(sa.select(users.c.id).where(users.c.group_name == actor.group))
    return owner == actor.id


def read_condition(
    rights: EntityRights, actor: User | None, entity: EntityDef, table: sa.FromClause
) -> sa.ColumnElement[bool] | None:
    if rights.others == "read":
        return None
    return scope_condition(rights, actor, entity, table)


def check_owner_value(
    conn: sa.Connection, rights: EntityRights, actor: User | None, values: dict[str, Any]
) -> None:
    """A write that names an owner must keep the record within the user's rule."""
    if actor is None or rights.row_rule == "all" or not rights.owner_field:
        return
    if rights.owner_field not in values or values[rights.owner_field] == actor.id:
        return
    owner = values[rights.owner_field]
    if rights.row_rule == "group" and actor.group and owner is not None:
        users = systables.users
        group = conn.execute(sa.select(users.c.group_name).where(users.c.id == owner)).scalar()
        if group == actor.group:
            return
    sentence = (
        msg(
            "You may only give records to a member of your group: {owner_field} must name "
            "a member of your group.",
            owner_field=rights.owner_field,
        )
        if rights.row_rule == "group" and actor.group
        else msg(
            "You may only give records to you: {owner_field} must name you.",
            owner_field=rights.owner_field,
        )
    )
    raise PermissionDenied(
        sentence,
        fields={rights.owner_field: msg("Outside your records.")},
    )


def check_writable(rights: EntityRights, data: Any, entity: EntityDef) -> None:
    if not isinstance(data, dict):
        return
    blocked = sorted(k for k in data if k in rights.read_only)
    if blocked:
        raise PermissionDenied(
            msg(
                "You may not change {names} of {entity}: read-only for you.",
                names=', '.join(blocked), entity=entity.label_plural,
            ),
            fields={k: "Read-only for you." for k in blocked},
        )


def strip_hidden(item: dict[str, Any], rights: EntityRights) -> dict[str, Any]:
    if not rights.hidden:
        return item
    return {k: v for k, v in item.items() if k not in rights.hidden}


def _role_rights_query() -> sa.Select[Any]:
    roles, perms = systables.roles, systables.permissions
    on_entity = sa.and_(
        perms.c.role_id == roles.c.id, perms.c.entity_id == sa.bindparam("entity_id")
    )
    return (
        sa.select(
            roles.c.id,
            roles.c.default_access,
            perms.c.actions,
            perms.c.row_rule,
            perms.c.others,
            perms.c.owner_field,
        )
        .select_from(roles.outerjoin(perms, on_entity))
        .where(roles.c.name == sa.bindparam("role"))
    )


# built once: every request of a user who is not an administrator runs them
_ROLE_RIGHTS = _role_rights_query()
_FIELD_RIGHTS = sa.select(
    systables.field_permissions.c.field_id, systables.field_permissions.c.access
).where(systables.field_permissions.c.role_id == sa.bindparam("role_id"))


class AccessService:
    """Reads and manages roles and permissions; answers "what may this user do"."""

    def __init__(self, engine: sa.Engine, cache: CatalogCache) -> None:
        self.engine = engine
        self.cache = cache

    @staticmethod
    def ensure_builtin_roles(conn: sa.Connection) -> None:
        roles = systables.roles
        present = set(conn.execute(sa.select(roles.c.name)).scalars())
        for name, (label, default) in BUILTIN.items():
            if name not in present:
                conn.execute(
                    sa.insert(roles).values(name=name, label=label, default_access=default)
                )

    # --- deciding -----------------------------------------------------------------------

    def rights(self, conn: sa.Connection, actor: User | None, entity: EntityDef) -> EntityRights:
        if actor is None or actor.is_admin:
            return FULL
        row = conn.execute(_ROLE_RIGHTS, {"role": actor.role, "entity_id": entity.id}).first()
        if row is None:
            return NOTHING  # a role that was removed: nothing until an admin fixes the user
        if row.actions is None:
            return FULL if row.default_access == "all" else NOTHING
        field_ids = {f.id: f.name for f in entity.fields}
        hidden: set[str] = set()
        read_only: set[str] = set()
        for field_id, mode in conn.execute(_FIELD_RIGHTS, {"role_id": row.id}):
            name = field_ids.get(field_id)
            if name is not None:
                (hidden if mode == "hidden" else read_only).add(name)
        return EntityRights(
            actions=frozenset(row.actions),
            row_rule=row.row_rule,
            others=row.others,
            owner_field=row.owner_field,
            hidden=frozenset(hidden),
            read_only=frozenset(read_only - hidden),
        )

    def readable_entities(self, actor: User | None) -> list[tuple[EntityDef, EntityRights]]:
        with db.read(self.engine) as conn:
            catalog = self.cache.current(conn)
            out = []
            for entity in catalog.live_entities():
                rights = self.rights(conn, actor, entity)
                if "read" in rights.actions:
                    out.append((entity, rights))
        return out

    # --- managing roles -------------------------------------------------------------------

    def roles(self) -> list[dict[str, Any]]:
        with db.read(self.engine) as conn:
            catalog = self.cache.current(conn)
            names = list(conn.execute(sa.select(systables.roles).order_by(systables.roles.c.id))
                         .mappings())
            return [self._role_json(conn, catalog, r) for r in names]

    def role(self, name: str) -> dict[str, Any]:
        with db.read(self.engine) as conn:
            catalog = self.cache.current(conn)
            return self._role_json(conn, catalog, self._role_row(conn, name))

    def _role_row(self, conn: sa.Connection, name: str) -> Any:
        roles = systables.roles
        row = conn.execute(sa.select(roles).where(roles.c.name == name)).mappings().first()
        if row is None:
            raise NotFound(msg("There is no role named '{name}'.", name=name))
        return row

    def _role_json(self, conn: sa.Connection, catalog: Catalog, row: Any) -> dict[str, Any]:
        perms, fp = systables.permissions, systables.field_permissions
        entities = {e.id: e for e in catalog.live_entities()}
        out: dict[str, Any] = {}
        for p in conn.execute(sa.select(perms).where(perms.c.role_id == row["id"])).mappings():
            entity = entities.get(p["entity_id"])
            if entity is None:
                continue
            out[entity.name] = {
                "actions": sorted(p["actions"], key=ACTIONS.index),
                "rows": p["row_rule"],
                "others": p["others"],
                "owner_field": p["owner_field"],
                "fields": {},
            }
        for field_id, mode in conn.execute(
            sa.select(fp.c.field_id, fp.c.access).where(fp.c.role_id == row["id"])
        ):
            for entity in entities.values():
                for f in entity.fields:
                    if f.id == field_id and entity.name in out:
                        out[entity.name]["fields"][f.name] = mode
        return {
            "name": row["name"],
            "label": row["label"],
            "default_access": row["default_access"],
            "builtin": row["name"] in BUILTIN,
            "permissions": out,
        }

    def create_role(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or set(data) - {"name", "label", "default_access"}:
            raise ValidationError(msg('A role is {{"name", "label", "default_access"}}.'))
        name = _role_name(data.get("name"))
        default = data.get("default_access", "none")
        if default not in DEFAULT_ACCESS:
            raise ValidationError(
                msg("default_access is all or none."),
                fields={"default_access": msg("all or none")},
            )
        label = str(data.get("label") or name)
        with db.write(self.engine) as conn:
            roles = systables.roles
            self._check_free(conn, name)
            conn.execute(sa.insert(roles).values(name=name, label=label, default_access=default))
        return self.role(name)

    def update_role(self, name: str, data: Any) -> dict[str, Any]:
        """Change a role's label or default access, or rename it (its users follow)."""
        if not isinstance(data, dict) or set(data) - {"name", "label", "default_access"}:
            raise ValidationError(msg('A role change is {{"name", "label", "default_access"}}.'))
        values: dict[str, Any] = {}
        if "name" in data and data["name"] != name:
            values["name"] = _role_name(data["name"])
            if name in BUILTIN:
                raise Conflict(
                    msg(
                        "The built-in role '{name}' cannot be renamed; change its label "
                        "instead.",
                        name=name,
                    ),
                    fields={"name": msg("Built-in.")},
                )
        if "label" in data:
            values["label"] = str(data["label"])
        if "default_access" in data:
            if data["default_access"] not in DEFAULT_ACCESS or name == "admin":
                raise ValidationError(
                    msg("default_access is all or none (the admin role always has all)."),
                    fields={"default_access": msg("all or none")},
                )
            values["default_access"] = data["default_access"]
        with db.write(self.engine) as conn:
            row = self._role_row(conn, name)
            roles = systables.roles
            if "name" in values:
                self._check_free(conn, values["name"])
                users = systables.users
                conn.execute(
                    sa.update(users).where(users.c.role == name).values(role=values["name"])
                )
            if values:
                conn.execute(sa.update(roles).where(roles.c.id == row["id"]).values(values))
        return self.role(values.get("name", name))

    @staticmethod
    def _check_free(conn: sa.Connection, name: str) -> None:
        roles = systables.roles
        if conn.execute(sa.select(roles.c.id).where(roles.c.name == name)).first():
            raise Conflict(
                msg("A role named '{name}' exists.", name=name), fields={"name": msg("Taken.")}
            )

    def delete_role(self, name: str) -> None:
        if name in BUILTIN:
            raise Conflict(msg("The built-in role '{name}' cannot be removed.", name=name))
        with db.write(self.engine) as conn:
            row = self._role_row(conn, name)
            users = systables.users
            count = conn.execute(
                sa.select(sa.func.count()).select_from(users).where(users.c.role == name)
            ).scalar_one()
            if count:
                raise Conflict(msg(
                    "{count} users have the role '{name}'; give them another first.",
                    count=count, name=name,
                ))
            conn.execute(sa.delete(systables.roles).where(systables.roles.c.id == row["id"]))

    def set_permission(self, role: str, entity_name: str, data: Any) -> dict[str, Any]:
        """Replace a role's permission on one entity (actions, rows, fields)."""
        return self.set_permissions(role, {entity_name: data})

    def set_permissions(self, role: str, data: dict[str, Any]) -> dict[str, Any]:
        """Replace a role's permissions on several entities at once: all or nothing."""
        if role == "admin":
            raise Conflict(msg("The admin role always has every right; it takes no rules."))
        with db.write(self.engine) as conn:
            catalog = self.cache.current(conn)
            row = self._role_row(conn, role)
            parsed = [
                (entity, _parse_permission(catalog, entity, body))
                for entity, body in ((catalog.entity(name), body) for name, body in data.items())
            ]
            for entity, perm in parsed:
                self._write_permission(conn, row["id"], entity, perm)
        return self.role(role)

    @staticmethod
    def _write_permission(
        conn: sa.Connection, role_id: int, entity: EntityDef, perm: dict[str, Any]
    ) -> None:
        perms, fp = systables.permissions, systables.field_permissions
        conn.execute(
            sa.delete(perms).where(perms.c.role_id == role_id, perms.c.entity_id == entity.id)
        )
        conn.execute(
            sa.insert(perms).values(
                role_id=role_id,
                entity_id=entity.id,
                actions=perm["actions"],
                row_rule=perm["rows"],
                others=perm["others"],
                owner_field=perm["owner_field"],
            )
        )
        ids = [f.id for f in entity.all_fields]
        conn.execute(sa.delete(fp).where(fp.c.role_id == role_id, fp.c.field_id.in_(ids)))
        for name, mode in perm["fields"].items():
            conn.execute(
                sa.insert(fp).values(role_id=role_id, field_id=entity.field(name).id, access=mode)
            )

    def delete_permission(self, role: str, entity_name: str) -> dict[str, Any]:
        with db.write(self.engine) as conn:
            catalog = self.cache.current(conn)
            entity = catalog.entity(entity_name)
            row = self._role_row(conn, role)
            perms, fp = systables.permissions, systables.field_permissions
            conn.execute(
                sa.delete(perms).where(perms.c.role_id == row["id"], perms.c.entity_id == entity.id)
            )
            ids = [f.id for f in entity.all_fields]
            conn.execute(sa.delete(fp).where(fp.c.role_id == row["id"], fp.c.field_id.in_(ids)))
        return self.role(role)


def owner_fields(catalog: Catalog, entity: EntityDef) -> list[FieldDef]:
    """The fields that may name a row rule's owner: the entity's user fields."""
    return [f for f in entity.fields if catalog.type_of(f).can_own_records]


def _role_name(name: Any) -> str:
    if not isinstance(name, str) or not name.isidentifier() or len(name) > 40:
        raise ValidationError(
            msg("A role name is 1 to 40 letters, digits or underscores."),
            fields={"name": msg("Not a valid name.")},
        )
    return name


def _parse_permission(catalog: Catalog, entity: EntityDef, data: Any) -> dict[str, Any]:
    keys = {"actions", "rows", "others", "owner_field", "fields"}
    if not isinstance(data, dict) or set(data) - keys:
        raise ValidationError(
            msg("A permission is a JSON object with: {names}.", names=', '.join(sorted(keys))),
        )
    errors: dict[str, str] = {}
    actions = data.get("actions", [])
    if not isinstance(actions, list) or any(a not in ACTIONS for a in actions):
        errors["actions"] = msg("A list of: {names}.", names=', '.join(ACTIONS))
        actions = []
    if actions and "read" not in actions:
        errors["actions"] = msg("Every other action needs read.")
    rows = data.get("rows", "all")
    if rows not in ROW_RULES:
        errors["rows"] = msg("One of: {names}.", names=', '.join(ROW_RULES))
    others = data.get("others", "hidden")
    if others not in OTHERS:
        errors["others"] = msg("One of: {names}.", names=', '.join(OTHERS))
    owner = data.get("owner_field")
    if owner is not None and (
        not isinstance(owner, str) or owner not in {f.name for f in owner_fields(catalog, entity)}
    ):
        errors["owner_field"] = msg(
            "A user field of {entity} (or null: created_by).",
            entity=entity.label_plural,
        )
    fields = data.get("fields", {})
    if not isinstance(fields, dict):
        errors["fields"] = msg('An object {{"field": "hidden" | "read_only"}}.')
        fields = {}
    for name, mode in fields.items():
        if not entity.has_field(name):
            errors[f"fields.{name}"] = msg(
                "{entities} have no field named '{name}'.",
                entities=entity.label_plural, name=name,
            )
        elif mode not in FIELD_ACCESS:
            errors[f"fields.{name}"] = msg("hidden or read_only.")
    if owner is not None and fields.get(owner) == "hidden" and rows != "all":
        errors["owner_field"] = msg("The owner field of a row rule cannot be hidden.")
    if errors:
        raise ValidationError(
            msg("The permission was not saved: {names}.", names=", ".join(sorted(errors))),
            fields=errors,
        )
    return {
        "actions": sorted(set(actions), key=ACTIONS.index),
        "rows": rows,
        "others": others,
        "owner_field": owner,
        "fields": dict(fields),
    }

