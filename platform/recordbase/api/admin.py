"""Administration: users, roles and their permissions, the audit log, settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, jsonify, request, url_for

from recordbase.api import bp
from recordbase.api.auth import admin_required, current_user, runtime
from recordbase.api.jsonio import json_body
from recordbase.audit import AuditFilter
from recordbase.errors import ValidationError
from recordbase.settings import all_settings, put_settings

# --- users -----------------------------------------------------------------------------


@bp.get("/admin/users")
@admin_required
def list_users() -> Response:
    return jsonify({"items": runtime().users.list_users()})


@bp.post("/admin/users")
@admin_required
def create_user() -> tuple[Response, int, dict[str, str]]:
    body = json_body()
    keys = {"login", "password", "name", "email", "role", "group"}
    if not isinstance(body, dict) or set(body) - keys:
        raise ValidationError(f"A new user is a JSON object with: {', '.join(sorted(keys))}.")
    for key in ("login", "password"):
        if not isinstance(body.get(key), str):
            raise ValidationError(f"The {key} is required.", fields={key: "Required."})
    user = runtime().users.create(
        body["login"],
        body["password"],
        role=body.get("role", "user"),
        name=body.get("name") or "",
        email=body.get("email"),
        group=body.get("group"),
        actor=current_user(),
    )
    location = url_for("api.get_user", user_id=user.id)
    return jsonify(runtime().users.get(user.id)), 201, {"Location": location}


@bp.get("/admin/users/<int:user_id>")
@admin_required
def get_user(user_id: int) -> Response:
    return jsonify(runtime().users.get(user_id))


@bp.patch("/admin/users/<int:user_id>")
@admin_required
def update_user(user_id: int) -> Response:
    return jsonify(runtime().users.update(user_id, json_body(), actor=current_user()))


@bp.post("/admin/users/<int:user_id>/password")
@admin_required
def reset_password(user_id: int) -> tuple[str, int]:
    body = json_body()
    if not isinstance(body, dict) or set(body) != {"password"} or not isinstance(
        body["password"], str
    ):
        raise ValidationError('Send {"password": "<new password>"}.', fields={"password": "?"})
    runtime().users.reset_password(user_id, body["password"], actor=current_user())
    return "", 204


# --- roles and permissions ---------------------------------------------------------------


@bp.get("/admin/roles")
@admin_required
def list_roles() -> Response:
    return jsonify({"items": runtime().access.roles()})


@bp.post("/admin/roles")
@admin_required
def create_role() -> tuple[Response, int]:
    return jsonify(runtime().access.create_role(json_body())), 201


@bp.get("/admin/roles/<name>")
@admin_required
def get_role(name: str) -> Response:
    return jsonify(runtime().access.role(name))


@bp.patch("/admin/roles/<name>")
@admin_required
def update_role(name: str) -> Response:
    return jsonify(runtime().access.update_role(name, json_body()))


@bp.delete("/admin/roles/<name>")
@admin_required
def delete_role(name: str) -> tuple[str, int]:
    runtime().access.delete_role(name)
    runtime().audit.log("role.delete", actor=current_user(), details={"role": name})
    return "", 204


@bp.put("/admin/roles/<name>/permissions/<entity>")
@admin_required
def set_permission(name: str, entity: str) -> Response:
    body = json_body()
    role = runtime().access.set_permission(name, entity, body)
    runtime().audit.log(
        "role.permission", actor=current_user(), entity=entity, details={"role": name, "set": body}
    )
    return jsonify(role)


@bp.delete("/admin/roles/<name>/permissions/<entity>")
@admin_required
def delete_permission(name: str, entity: str) -> Response:
    role = runtime().access.delete_permission(name, entity)
    runtime().audit.log("role.permission", actor=current_user(), entity=entity,
                        details={"role": name, "set": None})
    return jsonify(role)


# --- audit log and settings ----------------------------------------------------------------


def _int_arg(name: str, low: int, high: int) -> int | None:
    text = request.args.get(name)
    if text is None:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValidationError(f"{name} is a number from {low} to {high}.", fields={name: "?"})
    return int(text)


def _time_arg(name: str) -> dt.datetime | None:
    text = request.args.get(name)
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(
            f"{name} is a date or time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z.",
            fields={name: "Not a date."},
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


AUDIT_PARAMS = {"user", "entity", "record", "action", "since", "until", "limit"}


@bp.get("/audit")
@admin_required
def audit_log() -> Response:
    """The audit log, newest first; filter by user, entity, record, action and period."""
    unknown = set(request.args) - AUDIT_PARAMS
    if unknown:
        raise ValidationError(
            f"Unknown parameter {sorted(unknown)[0]!r}; use {', '.join(sorted(AUDIT_PARAMS))}.",
            fields={k: "Unknown parameter." for k in unknown},
        )
    query = AuditFilter(
        user_id=_int_arg("user", 1, 2**31),
        entity=request.args.get("entity") or None,
        record_id=_int_arg("record", 1, 2**63 - 1),
        action=request.args.get("action") or None,
        since=_time_arg("since"),
        until=_time_arg("until"),
        limit=_int_arg("limit", 1, 1000) or 100,
    )
    return jsonify({"items": runtime().audit.entries(query)})


@bp.get("/admin/settings")
@admin_required
def get_settings() -> Response:
    return jsonify(all_settings(runtime().engine))


@bp.patch("/admin/settings")
@admin_required
def update_settings() -> Response:
    body: Any = json_body()
    values = put_settings(runtime().engine, body)
    runtime().audit.log("settings.change", actor=current_user(), details=body)
    return jsonify(values)
