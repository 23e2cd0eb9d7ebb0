"""Stored files: uploads kept in the database, so every server process sees them.

The content type is decided here, never taken from the client: images are
recognised by Pillow from their bytes (and must decode), anything else gets the
type its extension implies and is always served as a download.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa

from recordbase import db, systables
from recordbase.errors import NotFound, PayloadTooLarge, ValidationError
from recordbase.messages import msg

MAX_FILE_BYTES = 100 * 1024 * 1024
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
# decompression bombs: refuse images of more pixels than a large photo
MAX_IMAGE_PIXELS = 80_000_000


@dataclass(frozen=True)
class StoredFile:
    id: int
    name: str
    content_type: str
    size: int
    sha256: str

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
        }


def clean_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = (
        "".join(
            ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C"
        )
        .strip()
        .strip(".")
    )
    if not base:
        raise ValidationError(msg("The file needs a name."), fields={"file": msg("No file name.")})
    return base[-255:]


def sniff_image(data: bytes) -> str | None:
    """The content type of a decodable PNG/JPEG/GIF/WebP image, else None."""
    from PIL import Image, UnidentifiedImageError  # only uploads need Pillow

    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationError(
                    msg("The image has too many pixels."), fields={"file": msg("Too many pixels.")}
                )
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    return IMAGE_TYPES.get(fmt or "")


class FileService:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def store(self, name: str, data: bytes, *, user_id: int | None) -> StoredFile:
        if len(data) > MAX_FILE_BYTES:
            raise PayloadTooLarge(msg(
                "A file may be at most {mb} MB.",
                mb=MAX_FILE_BYTES // 1024 // 1024,
            ))
        if not data:
            raise ValidationError(msg("The file is empty."), fields={"file": msg("Empty file.")})
        name = clean_name(name)
        content_type = sniff_image(data)
        if content_type is None:
            guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
            # a file that only claims to be an image is not one
            content_type = "application/octet-stream" if guessed.startswith("image/") else guessed
        digest = hashlib.sha256(data).hexdigest()
        with db.write(self.engine) as conn:
            file_id = conn.execute(
                sa.insert(systables.files)
                .values(
                    name=name,
                    content_type=content_type,
                    size=len(data),
                    sha256=digest,
                    data=data,
                    created_by=user_id,
                )
                .returning(systables.files.c.id)
            ).scalar_one()
        return StoredFile(file_id, name, content_type, len(data), digest)

    def info(self, file_id: int) -> StoredFile:
        files = systables.files
        with db.read(self.engine) as conn:
            row = conn.execute(
                sa.select(
                    files.c.id, files.c.name, files.c.content_type, files.c.size, files.c.sha256
                ).where(files.c.id == file_id)
            ).first()
        if row is None:
            raise NotFound(msg("There is no file with id {file_id}.", file_id=file_id))
        return StoredFile(*row)

    def content(self, file_id: int) -> tuple[StoredFile, bytes]:
        info = self.info(file_id)
        with db.read(self.engine) as conn:
            data = conn.execute(
                sa.select(systables.files.c.data).where(systables.files.c.id == file_id)
            ).scalar_one()
        return info, bytes(data)
