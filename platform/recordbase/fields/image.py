"""An uploaded image: a file whose stored content type is ``image/*``."""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma

from recordbase.fields.file import DEFAULT_FILE_SIZE_MB, MAX_FILE_SIZE_MB, FileFieldType
from recordbase.messages import msg
from recordbase.model import FieldDef

IMAGE_LABELS = {"en": "Image", "ru": "Изображение", "hy": "Պատկեր"}


class ImageOptions(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    max_size_mb = ma.fields.Integer(
        load_default=DEFAULT_FILE_SIZE_MB,
        validate=ma.validate.Range(
            min=1, max=MAX_FILE_SIZE_MB, error=f"Between 1 and {MAX_FILE_SIZE_MB} MB."
        ),
    )


class ImageFieldType(FileFieldType):
    name = "image"
    converts_to: ClassVar[frozenset[str]] = frozenset({"file"})
    widget = "image"
    noun = msg("uploaded image")
    labels = IMAGE_LABELS
    print_helper = "image"
    options_schema: ClassVar[type[ma.Schema]] = ImageOptions
    value_schema: ClassVar[dict[str, Any]] = {
        "type": "integer",
        "description": "id of an image uploaded through /api/v1/files",
    }

    def check_file(self, file_id: int, name: str, content_type: str) -> str | None:
        if not content_type.lower().startswith("image/"):
            return msg(
                "The file '{name}' (id {file_id}) is not an image: its type is {content_type}.",
                name=name, file_id=file_id, content_type=content_type,
            )
        return None

    def print_placeholder(self, field: FieldDef, record: str) -> str:
        return f'{{{{ image({record}.{field.name}, width="40mm") }}}}'  # a page-wide one is rare

    def sample_options(self) -> dict[str, Any]:
        return {"max_size_mb": 5}
