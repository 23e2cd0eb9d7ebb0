"""Who last changed the record: shows the system column ``updated_by`` (a user id)."""

from __future__ import annotations

from typing import ClassVar

from recordbase.fields.created_by import CreatedByFieldType


class UpdatedByFieldType(CreatedByFieldType):
    name = "updated_by"
    system_column: ClassVar[str] = "updated_by"
