"""Layouts of entities: the record card (form) and the list view (list).

Everyone signed in may read the layout in force of an entity they can see; saving,
versions, reverting, drafts and validation are for administrators. A body is a
layout document (``metadata/layout.schema.json``) of at most 256 KiB: a larger one
is refused unread (413), a malformed one with the place of each problem (422).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for

from recordbase.api import bp
from recordbase.api.auth import admin_required, current_user, login_required, runtime
from recordbase.api.entities import _visible
from recordbase.errors import ValidationError
from recordbase.layouts import parse_layout
from recordbase.layouts.parse import MAX_BYTES, too_large
from recordbase.layouts.service import LayoutVersion, check_kind, field_ids
from recordbase.model import EntityDef

BASE = "/entities/<entity>/layouts/<kind>"


def layout_body() -> Any:
    """The request's layout document: bounded before it is read, then parsed."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ValidationError("Send the layout as JSON with the Content-Type application/json.")
    length = request.content_length
    if length is not None and length > MAX_BYTES:
        raise too_large(length)
    raw = request.stream.read(MAX_BYTES + 1)
    return parse_layout(raw)


def role_arg() -> str | None:
    role = request.args.get("role", "").strip()
    if len(role) > 40:
        raise ValidationError("role: a role name is at most 40 characters.",
                              fields={"role": "Too long."})
    return role or None


def version_json(found: LayoutVersion) -> Response:
    return jsonify(found.to_json())


def fields_of(entity: EntityDef, layout: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields a layout can place or does place, by id: name, label, type, missing."""
    out: dict[str, dict[str, Any]] = {
        str(f.id): {"name": f.name, "label": f.label, "type": f.type, "missing": f.removed}
        for f in entity.all_fields
    }
    for ident in sorted(field_ids(layout)):
        out.setdefault(str(ident), {"name": None, "label": None, "type": None, "missing": True})
    return out


@bp.get(BASE)
@login_required
def get_layout(entity: str, kind: str) -> Response:
    """The layout in force (``version`` null: the automatic one)."""
    check_kind(kind)
    seen = _visible(entity)
    saved = runtime().layouts.current(entity, kind, role_arg())
    out: dict[str, Any] = {
        "version": None,
        "author": None,
        "created_at": None,
        "role": None,
        "note": "",
        "layout": None,
    }
    if saved is not None:
        out.update(saved.to_json())
    else:
        out["layout"] = runtime().layouts.automatic(entity, kind)
    out["fields"] = fields_of(seen, out["layout"])
    return jsonify(out)


@bp.put(BASE)
@admin_required
def put_layout(entity: str, kind: str) -> tuple[Response, int, dict[str, str]]:
    body = layout_body()
    note = request.args.get("note")
    role = role_arg()
    saved = runtime().layouts.save(
        entity, kind, body, actor=current_user(), role=role, note=note
    )
    location = url_for("api.get_layout_version", entity=entity, kind=kind, number=saved.number)
    return version_json(saved), 201, {"Location": location}


@bp.post(f"{BASE}/validate")
@admin_required
def validate_layout(entity: str, kind: str) -> Response:
    """The layout checked and normalised, nothing saved."""
    return jsonify({"layout": runtime().layouts.validate(entity, kind, layout_body())})


@bp.get(f"{BASE}/versions")
@admin_required
def list_layout_versions(entity: str, kind: str) -> Response:
    items = runtime().layouts.versions(entity, kind, role_arg())
    return jsonify(
        {"items": [{k: v for k, v in item.to_json().items() if k != "layout"} for item in items]}
    )


@bp.get(f"{BASE}/versions/<int:number>")
@admin_required
def get_layout_version(entity: str, kind: str, number: int) -> Response:
    return version_json(runtime().layouts.version(entity, kind, number, role_arg()))


@bp.get(f"{BASE}/versions/<int:old>/compare/<int:new>")
@admin_required
def compare_layout_versions(entity: str, kind: str, old: int, new: int) -> Response:
    """What changed from version ``old`` to version ``new``."""
    return jsonify(runtime().layouts.compare(entity, kind, old, new, role_arg()))


@bp.post(f"{BASE}/versions/<int:number>/revert")
@admin_required
def revert_layout(entity: str, kind: str, number: int) -> tuple[Response, int]:
    made = runtime().layouts.revert(entity, kind, number, actor=current_user(), role=role_arg())
    return version_json(made), 201


@bp.get(f"{BASE}/draft")
@admin_required
def get_layout_draft(entity: str, kind: str) -> Response:
    draft = runtime().layouts.draft(entity, kind, current_user().id, role_arg())
    return jsonify({"layout": draft})


@bp.put(f"{BASE}/draft")
@admin_required
def put_layout_draft(entity: str, kind: str) -> Response:
    body = layout_body()
    kept = runtime().layouts.save_draft(entity, kind, body, current_user().id, role_arg())
    return jsonify({"layout": kept})


@bp.delete(f"{BASE}/draft")
@admin_required
def delete_layout_draft(entity: str, kind: str) -> tuple[str, int]:
    runtime().layouts.discard_draft(entity, kind, current_user().id, role_arg())
    return "", 204


def layout_paths(problem: dict[str, Any]) -> dict[str, Any]:
    """The layout endpoints for the OpenAPI document (one set for every entity)."""
    entity = {"name": "entity", "in": "path", "required": True, "schema": {"type": "string"}}
    kind = {"name": "kind", "in": "path", "required": True,
            "schema": {"type": "string", "enum": ["form", "list"]}}
    role = {"name": "role", "in": "query", "schema": {"type": "string", "maxLength": 40}}
    number = {"name": "number", "in": "path", "required": True, "schema": {"type": "integer"}}
    body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "description": "A layout: metadata/layout.schema.json (at most 256 KiB)"
    }}}}
    version = {"description": "A layout version: version, author, created_at, role, note, layout",
               "content": {"application/json": {"schema": {"type": "object"}}}}
    base = "/entities/{entity}/layouts/{kind}"
    return {
        base: {
            "parameters": [entity, kind, role],
            "get": {"summary": "The layout in force (version null: the automatic one)",
                    "responses": {"200": version, "404": problem}},
            "put": {"summary": "Save a new version (administrators)", "requestBody": body,
                    "parameters": [{"name": "note", "in": "query",
                                    "schema": {"type": "string", "maxLength": 200}}],
                    "responses": {"201": version, "403": problem, "413": problem,
                                  "422": problem}},
        },
        f"{base}/versions": {
            "parameters": [entity, kind, role],
            "get": {"summary": "The saved versions, newest first (administrators)",
                    "responses": {"200": {"description": "Versions without their layouts"}}},
        },
        f"{base}/versions/{{number}}": {
            "parameters": [entity, kind, role, number],
            "get": {"summary": "One saved version", "responses": {"200": version, "404": problem}},
        },
        f"{base}/versions/{{number}}/revert": {
            "parameters": [entity, kind, role, number],
            "post": {"summary": "A new version equal to this one",
                     "responses": {"201": version, "404": problem, "422": problem}},
        },
    }
