"""Built-in field types, one module and one class each."""

from __future__ import annotations

from recordbase.fields.base import FieldType
from recordbase.fields.registry import FieldTypeRegistry


def builtin_types() -> list[FieldType]:
    """Instances of every built-in field type (imported here, not at package import)."""
    from recordbase.fields.child_table import ChildTableFieldType
    from recordbase.fields.decimal import DecimalFieldType
    from recordbase.fields.integer import IntegerFieldType
    from recordbase.fields.link import LinkFieldType
    from recordbase.fields.text import TextFieldType

    return [
        TextFieldType(),
        IntegerFieldType(),
        DecimalFieldType(),
        LinkFieldType(),
        ChildTableFieldType(),
    ]


def builtin_registry() -> FieldTypeRegistry:
    registry = FieldTypeRegistry()
    for field_type in builtin_types():
        registry.register(field_type)
    return registry
