"""Entities and their fields: read by every user, changed by administrators."""

from __future__ import annotations

from flask import Response, jsonify, url_for

from recordbase.api import bp
from recordbase.api.auth import admin_required, current_user, login_required, runtime
from recordbase.api.jsonio import json_body
from recordbase.schema.specs import entity_to_json, field_to_json


@bp.get("/entities")
@login_required
def list_entities() -> Response:
    catalog = runtime().cache.current()
    return jsonify({"items": [entity_to_json(e) for e in catalog.live_entities()]})


@bp.post("/entities")
@admin_required
def create_entity() -> tuple[Response, int, dict[str, str]]:
    entity = runtime().schema.create_entity(json_body(), user_id=current_user().id)
    location = url_for("api.get_entity", entity=entity.name)
    return jsonify(entity_to_json(entity)), 201, {"Location": location}


@bp.get("/entities/<entity>")
@login_required
def get_entity(entity: str) -> Response:
    return jsonify(entity_to_json(runtime().cache.current().entity(entity)))


@bp.patch("/entities/<entity>")
@admin_required
def update_entity(entity: str) -> Response:
    updated = runtime().schema.update_entity(entity, json_body(), user_id=current_user().id)
    return jsonify(entity_to_json(updated))


@bp.post("/entities/<entity>/fields")
@admin_required
def add_field(entity: str) -> tuple[Response, int, dict[str, str]]:
    fdef = runtime().schema.add_field(entity, json_body(), user_id=current_user().id)
    location = url_for("api.get_field", entity=entity, field=fdef.name)
    return jsonify(field_to_json(fdef)), 201, {"Location": location}


@bp.get("/entities/<entity>/fields/<field>")
@login_required
def get_field(entity: str, field: str) -> Response:
    return jsonify(field_to_json(runtime().cache.current().entity(entity).field(field)))


@bp.patch("/entities/<entity>/fields/<field>")
@admin_required
def update_field(entity: str, field: str) -> Response:
    fdef = runtime().schema.update_field(entity, field, json_body(), user_id=current_user().id)
    return jsonify(field_to_json(fdef))
