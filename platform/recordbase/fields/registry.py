"""The field-type registry: a name maps to exactly one type object."""

from __future__ import annotations

from collections.abc import Iterator

from recordbase.errors import RegistryError
from recordbase.fields.base import FieldType


class FieldTypeRegistry:
    def __init__(self) -> None:
        self._types: dict[str, FieldType] = {}

    def register(self, field_type: FieldType) -> None:
        if not field_type.name:
            raise ValueError(f"{type(field_type).__name__} has no name")
        if field_type.name in self._types:
            raise RegistryError("field type", field_type.name, duplicate=True)
        self._types[field_type.name] = field_type

    def get(self, name: str) -> FieldType:
        try:
            return self._types[name]
        except KeyError:
            raise RegistryError("field type", name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[FieldType]:
        return iter(self._types.values())

    def names(self) -> list[str]:
        return list(self._types)
