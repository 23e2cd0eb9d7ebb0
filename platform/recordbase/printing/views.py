"""What a print template sees: records as read-only views, made of plain data.

A view is built in the web process from the records a render needs and sent,
pickled, to the worker process that runs the template. It holds values only:
no connection, no service, nothing a template could call to reach the database.
Inside the sandbox its only way in is ``record.name`` / ``record["name"]``
(underscored attributes are refused by the sandbox), so a field named like a
method can never be shadowed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldInfo:
    name: str
    label: str
    type: str


@dataclass(frozen=True)
class EntityInfo:
    name: str
    label: str
    label_plural: str
    fields: tuple[FieldInfo, ...]

    def field(self, name: str) -> FieldInfo | None:
        for info in self.fields:
            if info.name == name:
                return info
        return None


class RecordView:
    """One record: its values by field name (links as views, lines as lists of views)."""

    __slots__ = ("_entity", "_shown", "_title", "_values")

    def __init__(
        self,
        entity: EntityInfo,
        values: dict[str, Any],
        shown: dict[str, str],
        title: str,
    ) -> None:
        self._entity = entity
        self._values = values
        self._shown = shown
        self._title = title

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        # iterating a record gives its field names, as a dict would
        return iter(f.name for f in self._entity.fields)

    def __str__(self) -> str:
        return self._title

    def __repr__(self) -> str:
        return f"<{self._entity.label} {self._title}>"

    def __getstate__(self) -> tuple[Any, ...]:
        return (self._entity, self._values, self._shown, self._title)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self._entity, self._values, self._shown, self._title = state

    # --- read by the helpers, never by templates (underscored: refused by the sandbox)

    @property
    def _entity_info(self) -> EntityInfo:
        return self._entity

    def _display(self, name: str) -> str:
        return self._shown.get(name, "")

    def _raw_values(self) -> Mapping[str, Any]:
        return self._values


def entity_of(view: RecordView) -> EntityInfo:
    return view._entity_info


def display_of(view: RecordView, name: str) -> str:
    return view._display(name)


def title_of(view: RecordView) -> str:
    return view._title
