"""The compiled, immutable view of metadata that services work with.

Rows of the system tables become these dataclasses once per metadata version;
every request of that version shares them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from recordbase.errors import NotFound
from recordbase.messages import msg

SYSTEM_COLUMNS = ("id", "version", "created_at", "updated_at", "created_by", "updated_by")


def table_name(entity_id: int) -> str:
    """The physical table of an entity: fixed by its id, never by its name."""
    return f"e_{entity_id}"


def column_name(field_id: int) -> str:
    """The physical column of a stored field: fixed by its id, never by its name."""
    return f"f_{field_id}"


@dataclass(frozen=True)
class FieldDef:
    id: int
    entity_id: int
    name: str
    label: str
    type: str
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    required: bool = False
    unique: bool = False
    indexed: bool = False
    default: Any = None
    help: str = ""
    position: int = 0
    removed: bool = False

    @property
    def column(self) -> str:
        return column_name(self.id)


@dataclass(frozen=True)
class NavSetting:
    """Where an entity's section shows in the navigation (its name there is ``label_plural``).

    A hidden section is left out of the menu and the home page only: its pages stay
    reachable by address, links and tabs for everyone whose rights allow it.
    """

    hidden: bool = False
    #: the place in the menu, smallest first; ``None`` keeps the order of creation, after
    #: every section that has a position
    position: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"hidden": self.hidden, "position": self.position}

    @classmethod
    def from_json(cls, value: Any) -> NavSetting:
        """The stored value (a mapping, or nothing for an entity made before the setting)."""
        if not isinstance(value, Mapping):
            return cls()
        position = value.get("position")
        place = position if isinstance(position, int) else None
        return cls(bool(value.get("hidden", False)), place)


@dataclass(frozen=True)
class EntityDef:
    id: int
    name: str
    label: str
    label_plural: str
    directory: bool = False
    tree: bool = False
    child: bool = False
    title_field: str | None = None
    removed: bool = False
    all_fields: tuple[FieldDef, ...] = ()
    nav: NavSetting = NavSetting()

    @property
    def table(self) -> str:
        return table_name(self.id)

    @property
    def fields(self) -> tuple[FieldDef, ...]:
        """The live fields, in position order; removed fields are hidden."""
        return tuple(f for f in self.all_fields if not f.removed)

    def field(self, name: str) -> FieldDef:
        for f in self.all_fields:
            if f.name == name and not f.removed:
                return f
        raise NotFound(
            msg("The entity '{entity}' has no field '{name}'.", entity=self.name, name=name),
            fields={name: msg("Unknown field.")}
        )

    def field_by_id(self, field_id: int) -> FieldDef:
        for f in self.all_fields:
            if f.id == field_id:
                return f
        raise NotFound(msg(
            "The entity '{entity}' has no field with id {field_id}.",
            entity=self.name, field_id=field_id,
        ))

    def has_field(self, name: str) -> bool:
        return any(f.name == name and not f.removed for f in self.all_fields)
