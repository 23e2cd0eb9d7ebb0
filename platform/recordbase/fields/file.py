"""An uploaded file: the value is the id of a row of ``rb_files``.

Uploads arrive through ``/api/v1/files`` and give the id; a record only refers to
it. Removing the file leaves the record with no file (``ON DELETE SET NULL``).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase import systables
from recordbase.fields.base import FieldType
from recordbase.fields.link import RecordId
from recordbase.model import FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from recordbase.catalog import Catalog

MAX_FILE_SIZE_MB = 100
DEFAULT_FILE_SIZE_MB = 20
FILE_LABELS = {"en": "File", "ru": "Файл", "hy": "Ֆայլ"}


def id_from_text(raw: Any) -> Any:
    """An id written as text (a query string, a spreadsheet cell) as the integer it names."""
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        return int(raw.strip())
    return raw


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


class FileFieldType(FieldType):
    name = "file"
    converts_to: ClassVar[frozenset[str]] = frozenset({"image"})
    widget = "file"
    operators = ("eq", "isnull")
    can_be_unique = False
    can_have_default = False
    sortable = False
    always_indexed = True  # deleting a file looks up the records that refer to it
    options_schema: ClassVar[type[ma.Schema]] = FileOptions
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "integer",
        "description": "id of a file uploaded through /api/v1/files",
    }
    #: what the value is called in messages
    noun: ClassVar[str] = "file"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Integer()

    def columns(self, field: FieldDef, catalog: Catalog) -> list[sa.Column[Any]]:
        return [
            sa.Column(
                field.column,
                sa.Integer,
                sa.ForeignKey(f"{systables.files.name}.id", ondelete="SET NULL"),
                nullable=True,
            )
        ]

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        return RecordId(allow_none=True)

    def filter_value(self, field: FieldDef, op: str, raw: Any) -> Any:
        return super().filter_value(field, op, id_from_text(raw))

    def import_value(self, field: FieldDef, text: str) -> Any:
        return super().import_value(field, id_from_text(text))

    def check_references(
        self, conn: sa.Connection, field: FieldDef, catalog: Catalog, value: Any
    ) -> str | None:
        if value is None:
            return None
        files = systables.files
        row = conn.execute(
            sa.select(files.c.name, files.c.content_type).where(files.c.id == value)
        ).first()
        if row is None:
            return f"There is no uploaded {self.noun} with id {value}."
        return self.check_file(value, row.name, row.content_type)

    def check_file(self, file_id: int, name: str, content_type: str) -> str | None:
        """A sentence when the stored file does not suit this field."""
        return None

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        return f"{FILE_LABELS.get(locale, FILE_LABELS['en'])} #{value}"

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        return None  # a file must be uploaded first; callers make one

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        from hypothesis import strategies as st

        return st.none()

    def sample_options(self) -> dict[str, Any]:
        return {"max_size_mb": 10, "extensions": ["pdf", ".DOCX", "odt"]}
