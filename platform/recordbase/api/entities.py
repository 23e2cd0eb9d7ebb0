"""Entities and their fields: read by every user, changed by administrators.

Every change accepts ``?dry_run=true``: the same checks run and the answer is the
preview (counts, failing samples, dependents), with nothing changed.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for

from recordbase import access as acl
from recordbase.api import bp
from recordbase.api.auth import admin_required, current_user, login_required, runtime
from recordbase.api.jsonio import json_body
from recordbase.errors import NotFound, ValidationError
from recordbase.schema.operation import Operation, Outcome
from recordbase.schema.ops_entity import (
    ChangeEntity,
    CreateEntity,
    PurgeEntity,
    RemoveEntity,
    RestoreEntity,
)
from recordbase.schema.ops_field import AddField, ChangeField, PurgeField, RemoveField, RestoreField
from recordbase.schema.specs import entity_to_json, field_to_json

TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no", "")


def flag(name: str) -> bool:
    text = request.args.get(name, "").strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValidationError(f"The parameter {name} is true or false.", fields={name: "true or false"})


def run(op: Operation) -> Outcome:
    return runtime().schema.execute(op, user_id=current_user().id, dry_run=flag("dry_run"))


def preview(outcome: Outcome) -> Response:
    return jsonify({"dry_run": True, "operation": outcome.operation, **outcome.report})


def done(outcome: Outcome) -> Response:
    return jsonify(
        {
            "operation": outcome.operation,
            "entity": outcome.entity,
            "field": outcome.field,
            **outcome.report,
        }
    )


@bp.get("/entities")
@login_required
def list_entities() -> Response:
    readable = runtime().access.readable_entities(current_user())
    return jsonify({"items": [entity_to_json(acl.view(e, r)) for e, r in readable]})


@bp.post("/entities")
@admin_required
def create_entity() -> Any:
    outcome = run(CreateEntity(json_body()))
    if flag("dry_run"):
        return preview(outcome)
    location = url_for("api.get_entity", entity=outcome.entity)
    return jsonify(entity_to_json(outcome.result)), 201, {"Location": location}


@bp.get("/entities/<entity>")
@login_required
def get_entity(entity: str) -> Response:
    return jsonify(entity_to_json(_visible(entity)))


def _visible(name: str) -> Any:
    """The entity as the caller sees it; an entity the caller may not read is not there."""
    for entity, rights in runtime().access.readable_entities(current_user()):
        if entity.name == name:
            return acl.view(entity, rights)
    raise NotFound(f"There is no entity named {name!r}.")


@bp.patch("/entities/<entity>")
@admin_required
def update_entity(entity: str) -> Response:
    outcome = run(ChangeEntity(entity, json_body()))
    if flag("dry_run"):
        return preview(outcome)
    return jsonify(entity_to_json(outcome.result))


@bp.delete("/entities/<entity>")
@admin_required
def delete_entity(entity: str) -> Any:
    if flag("purge"):
        outcome = run(PurgeEntity(entity, confirmed=flag("confirm")))
    else:
        outcome = run(RemoveEntity(entity))
    return preview(outcome) if flag("dry_run") else done(outcome)


@bp.post("/entities/<entity>/restore")
@admin_required
def restore_entity(entity: str) -> Response:
    outcome = run(RestoreEntity(entity))
    return preview(outcome) if flag("dry_run") else done(outcome)


@bp.post("/entities/<entity>/fields")
@admin_required
def add_field(entity: str) -> Any:
    outcome = run(AddField(entity, json_body()))
    if flag("dry_run"):
        return preview(outcome)
    location = url_for("api.get_field", entity=entity, field=outcome.field)
    return jsonify(field_to_json(outcome.result)), 201, {"Location": location}


@bp.get("/entities/<entity>/fields/<field>")
@login_required
def get_field(entity: str, field: str) -> Response:
    return jsonify(field_to_json(_visible(entity).field(field)))


@bp.patch("/entities/<entity>/fields/<field>")
@admin_required
def update_field(entity: str, field: str) -> Response:
    outcome = run(ChangeField(entity, field, json_body()))
    if flag("dry_run"):
        return preview(outcome)
    return jsonify(field_to_json(outcome.result))


@bp.delete("/entities/<entity>/fields/<field>")
@admin_required
def delete_field(entity: str, field: str) -> Response:
    if flag("purge"):
        outcome = run(PurgeField(entity, field, confirmed=flag("confirm")))
    else:
        outcome = run(RemoveField(entity, field))
    return preview(outcome) if flag("dry_run") else done(outcome)


@bp.post("/entities/<entity>/fields/<field>/restore")
@admin_required
def restore_field(entity: str, field: str) -> Response:
    outcome = run(RestoreField(entity, field))
    if flag("dry_run"):
        return preview(outcome)
    return jsonify(field_to_json(outcome.result))


@bp.get("/schema/journal")
@admin_required
def journal() -> Response:
    limit_text = request.args.get("limit", "100")
    before = request.args.get("before")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 500:
        raise ValidationError("The limit is a number from 1 to 500.", fields={"limit": "1 to 500"})
    if before is not None and not before.isdigit():
        raise ValidationError("before is a journal entry id.", fields={"before": "An id."})
    items = runtime().schema.journal(
        limit=int(limit_text), before_id=int(before) if before else None
    )
    return jsonify({"items": items})


@bp.post("/schema/journal/<int:entry_id>/undo")
@admin_required
def undo(entry_id: int) -> Response:
    outcome = runtime().schema.undo(entry_id, user_id=current_user().id)
    return done(outcome)
