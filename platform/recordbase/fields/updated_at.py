"""When the record was last changed: shows the system column ``updated_at``."""

from __future__ import annotations

from typing import ClassVar

from recordbase.fields.created_at import CreatedAtFieldType


class UpdatedAtFieldType(CreatedAtFieldType):
    name = "updated_at"
    system_column: ClassVar[str] = "updated_at"
