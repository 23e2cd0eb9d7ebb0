"""Built-in field types, one module and one class each."""

from __future__ import annotations

from recordbase.fields.base import FieldType
from recordbase.fields.registry import FieldTypeRegistry


def builtin_types() -> list[FieldType]:
    """Instances of every built-in field type (imported here, not at package import)."""
    from recordbase.fields.autonumber import AutonumberFieldType
    from recordbase.fields.boolean import BooleanFieldType
    from recordbase.fields.child_table import ChildTableFieldType
    from recordbase.fields.created_at import CreatedAtFieldType
    from recordbase.fields.created_by import CreatedByFieldType
    from recordbase.fields.date import DateFieldType
    from recordbase.fields.datetime import DatetimeFieldType
    from recordbase.fields.decimal import DecimalFieldType
    from recordbase.fields.email import EmailFieldType
    from recordbase.fields.file import FileFieldType
    from recordbase.fields.image import ImageFieldType
    from recordbase.fields.integer import IntegerFieldType
    from recordbase.fields.link import LinkFieldType
    from recordbase.fields.long_text import LongTextFieldType
    from recordbase.fields.many_to_many import ManyToManyFieldType
    from recordbase.fields.money import MoneyFieldType
    from recordbase.fields.multi_select import MultiSelectFieldType
    from recordbase.fields.percent import PercentFieldType
    from recordbase.fields.phone import PhoneFieldType
    from recordbase.fields.single_select import SingleSelectFieldType
    from recordbase.fields.text import TextFieldType
    from recordbase.fields.updated_at import UpdatedAtFieldType
    from recordbase.fields.updated_by import UpdatedByFieldType
    from recordbase.fields.url import UrlFieldType
    from recordbase.fields.user import UserFieldType

    return [
        TextFieldType(),
        IntegerFieldType(),
        DecimalFieldType(),
        LinkFieldType(),
        LongTextFieldType(),
        PercentFieldType(),
        MoneyFieldType(),
        BooleanFieldType(),
        DateFieldType(),
        DatetimeFieldType(),
        SingleSelectFieldType(),
        MultiSelectFieldType(),
        EmailFieldType(),
        PhoneFieldType(),
        UrlFieldType(),
        FileFieldType(),
        ImageFieldType(),
        AutonumberFieldType(),
        CreatedAtFieldType(),
        UpdatedAtFieldType(),
        CreatedByFieldType(),
        UpdatedByFieldType(),
        UserFieldType(),
        ManyToManyFieldType(),
        ChildTableFieldType(),
    ]


def builtin_registry() -> FieldTypeRegistry:
    registry = FieldTypeRegistry()
    for field_type in builtin_types():
        registry.register(field_type)
    return registry
