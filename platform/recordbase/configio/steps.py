"""The steps of a plan: typed objects that describe and apply themselves.

A plan is a list of steps in the order they run. Each step is one call of
``SchemaService``; the steps this version cannot apply (``Unsupported``, ``Drift``)
block the whole plan, so a configuration is applied completely or not started.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from recordbase.schema import ops_entity, ops_field
from recordbase.schema.operation import Operation

if TYPE_CHECKING:
    pass


def quoted(value: Any) -> str:
    """A value as the plan shows it: JSON, so text is in double quotes and None is null."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class Step:
    """One change of a plan."""

    #: a step this version cannot apply: a plan holding one is refused as a whole
    blocking: ClassVar[bool] = False

    def describe(self) -> str:
        """One human line: ``+`` adds, ``~`` changes, ``!`` cannot be applied."""
        raise NotImplementedError

    def operations(self) -> list[Operation]:
        """The schema operations that make the change (all steps run in one transaction)."""
        raise NotImplementedError

    def finishing(self) -> list[Operation]:
        """Operations that must wait until every step has been applied (most: none)."""
        return []


@dataclass(frozen=True)
class CreateEntity(Step):
    entity: str
    #: the input of ``SchemaService.create_entity``: the entity and the fields made with it
    spec: Mapping[str, Any]
    #: the title field, when it is one of the fields added after all entities exist
    title_field_later: str | None = None

    def describe(self) -> str:
        count = len(self.spec["fields"])
        return f"+ entity {self.entity} ({count} field{'' if count == 1 else 's'})"

    def operations(self) -> list[Operation]:
        return [ops_entity.CreateEntity(json_copy(self.spec))]

    def finishing(self) -> list[Operation]:
        if self.title_field_later is None:
            return []
        return [ops_entity.ChangeEntity(self.entity, {"title_field": self.title_field_later})]


@dataclass(frozen=True)
class AddField(Step):
    entity: str
    #: the input of ``SchemaService.add_field``
    spec: Mapping[str, Any]
    #: added after all entities exist, because its target is created after its entity
    deferred: bool = False

    def describe(self) -> str:
        return f"+ field {self.entity}.{self.spec['name']} ({self.spec['type']})"

    def operations(self) -> list[Operation]:
        return [ops_field.AddField(self.entity, json_copy(self.spec))]


@dataclass(frozen=True)
class UpdateEntity(Step):
    entity: str
    attribute: str
    old: Any
    new: Any

    def describe(self) -> str:
        return f"~ entity {self.entity} {self.attribute} {quoted(self.old)} -> {quoted(self.new)}"

    def operations(self) -> list[Operation]:
        return [ops_entity.ChangeEntity(self.entity, {self.attribute: self.new})]


@dataclass(frozen=True)
class UpdateField(Step):
    entity: str
    field: str
    attribute: str
    old: Any
    new: Any

    def describe(self) -> str:
        return (
            f"~ field {self.entity}.{self.field} {self.attribute} "
            f"{quoted(self.old)} -> {quoted(self.new)}"
        )

    def operations(self) -> list[Operation]:
        return [ops_field.ChangeField(self.entity, self.field, {self.attribute: self.new})]


@dataclass(frozen=True)
class Blocked(Step):
    """A difference between the files and the database that this version cannot apply."""

    blocking: ClassVar[bool] = True
    #: ``field clients.vat``, ``entity clients``
    subject: str
    reason: str

    def describe(self) -> str:
        return f"! {self.subject}: {self.reason}"

    def operations(self) -> list[Operation]:
        raise AssertionError("a blocked step is never applied")  # apply_config refuses first


@dataclass(frozen=True)
class Unsupported(Blocked):
    """The files ask for a change that config apply cannot make yet (a type change …)."""


@dataclass(frozen=True)
class Drift(Blocked):
    """The database has something the files do not (config apply never removes anything)."""


@dataclass
class Plan:
    """What ``apply_config`` does, step by step, in order."""

    steps: list[Step] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.steps

    @property
    def blocked(self) -> list[Step]:
        return [step for step in self.steps if step.blocking]

    def describe(self) -> list[str]:
        return [step.describe() for step in self.steps]


def json_copy(value: Mapping[str, Any]) -> dict[str, Any]:
    """A plain, mutable deep copy (read-only mappings from the catalog included)."""
    copied: dict[str, Any] = json.loads(json.dumps(value, default=dict))
    return copied
