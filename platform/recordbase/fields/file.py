"""An uploaded file: the value is the id of a row of ``rb_files``.

Uploads arrive through ``/api/v1/files`` and give the id; a record only refers to
it. Removing the file leaves the record with no file (``ON DELETE SET NULL``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma

from recordbase import systables
from recordbase.fields.row_reference import RowReferenceFieldType
from recordbase.messages import msg

MAX_FILE_SIZE_MB = 100
DEFAULT_FILE_SIZE_MB = 20
FILE_LABELS = {"en": "File", "ru": "Файл", "hy": "Ֆայլ"}


class FileOptions(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    max_size_mb = ma.fields.Integer(
        load_default=DEFAULT_FILE_SIZE_MB,
        validate=ma.validate.Range(
            min=1, max=MAX_FILE_SIZE_MB, error=f"Between 1 and {MAX_FILE_SIZE_MB} MB."
        ),
    )
    extensions = ma.fields.List(
        ma.fields.String(
            validate=ma.validate.Regexp(
                r"^\.?[A-Za-z0-9]{1,10}\Z", error="An extension is 1 to 10 letters or digits."
            )
        ),
        validate=ma.validate.Length(min=1, max=50),
    )

    @ma.post_load
    def normalise(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if "extensions" in data:
            data["extensions"] = sorted({e.lstrip(".").lower() for e in data["extensions"]})
        return data


class FileFieldType(RowReferenceFieldType):
    name = "file"
    converts_to: ClassVar[frozenset[str]] = frozenset({"image"})
    widget = "file"
    operators = ("eq", "isnull")
    can_be_unique = False
    sortable = False
    options_schema: ClassVar[type[ma.Schema]] = FileOptions
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "integer",
        "description": "id of a file uploaded through /api/v1/files",
    }
    referenced = systables.files
    checked_columns = ("id", "name", "content_type")
    noun: ClassVar[str] = msg("uploaded file")
    labels: ClassVar[dict[str, str]] = FILE_LABELS

    def check_row(self, row_id: int, row: Any) -> str | None:
        return self.check_file(row_id, row["name"], row["content_type"])

    def check_file(self, file_id: int, name: str, content_type: str) -> str | None:
        """A sentence when the stored file does not suit this field."""
        return None

    def sample_options(self) -> dict[str, Any]:
        return {"max_size_mb": 10, "extensions": ["pdf", ".DOCX", "odt"]}
