"""Uploads and downloads of stored files."""

from __future__ import annotations

from flask import Response, jsonify, request

from recordbase.api import bp
from recordbase.api.auth import current_user, login_required, runtime
from recordbase.errors import ValidationError
from recordbase.files import MAX_FILE_BYTES


@bp.post("/files")
@login_required
def upload_file() -> tuple[Response, int]:
    request.max_content_length = MAX_FILE_BYTES + 64 * 1024
    upload = request.files.get("file")
    if upload is None or set(request.files) != {"file"}:
        raise ValidationError(
            'Send one file as multipart/form-data in the part named "file".',
            fields={"file": "Required."},
        )
    data = upload.read(MAX_FILE_BYTES + 1)
    stored = runtime().files.store(upload.filename or "", data, user_id=current_user().id)
    return jsonify(stored.as_json()), 201


@bp.get("/files/<int:file_id>")
@login_required
def download_file(file_id: int) -> Response:
    return file_response(file_id)


def file_response(file_id: int) -> Response:
    """A stored file as a download (images inline on ``?inline=1``), never rendered as a page;
    the API and the record cards both serve files through it."""
    info, data = runtime().files.content(file_id)
    inline = info.content_type.startswith("image/") and request.args.get("inline") == "1"
    response = Response(data, mimetype=info.content_type)
    response.headers.set(
        "Content-Disposition", "inline" if inline else "attachment", filename=info.name
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
