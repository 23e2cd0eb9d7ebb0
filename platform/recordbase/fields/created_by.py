"""Who created the record: shows the system column ``created_by`` (a user id)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa

from recordbase.fields.user import UserFieldType
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from recordbase.catalog import Catalog


class CreatedByFieldType(UserFieldType):
    name = "created_by"
    widget = "readonly_user"
    owns_column = False
    read_only = True
    can_own_records = False  # a row rule without an owner field already means created_by
    always_indexed = False
    can_be_unique = False
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "integer",
        "description": "id of a user",
        "readOnly": True,
    }
    system_column: ClassVar[str] = "created_by"

    def columns(self, field: FieldDef, catalog: Catalog) -> list[sa.Column[Any]]:
        return []

    def source_column(self, field: FieldDef) -> str | None:
        return self.system_column
