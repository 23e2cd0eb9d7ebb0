"""The licence in force: read by every signed-in user; installed by an administrator."""

from __future__ import annotations

from flask import Response, jsonify

from recordbase import db, systables
from recordbase.api import bp
from recordbase.api.auth import admin_required, current_user, login_required, runtime
from recordbase.api.jsonio import json_body
from recordbase.errors import ValidationError
from recordbase.licence import tier_json
from recordbase.sessions import holders


def licence_status() -> dict[str, object]:
    rt = runtime()
    with db.read(rt.engine) as conn:
        state = rt.licence.state(conn)
        used = len(holders(conn, systables.utcnow()))
        active = rt.users.count_active(conn)
    body = tier_json(state)
    return {
        "tier": body["tier"],
        "licensee": body["licensee"],
        "seats": body["seats"],
        "seats_used": used,
        "users": active,
        "users_max": body["users_max"],
        "structure_editing": body["structure_editing"],
        "demo_launches_left": body["demo_launches_left"],
    }


@bp.get("/license")
@login_required
def get_licence() -> Response:
    return jsonify(licence_status())


@bp.post("/license")
@admin_required
def install_licence() -> Response:
    body = json_body()
    if not isinstance(body, dict) or set(body) != {"key"} or not isinstance(body["key"], str):
        raise ValidationError('Send {"key": "<licence key>"}.', fields={"key": "Required."})
    rt = runtime()
    before = rt.licence.state().describe()
    try:
        key = rt.licence.install(body["key"])
    except ValidationError:
        rt.audit.log("licence.rejected", actor=current_user())
        raise
    rt.audit.log(
        "licence.install",
        actor=current_user(),
        details={"tier": key.tier, "licensee": key.licensee, "id": key.id, "before": before},
    )
    return jsonify(licence_status())


@bp.post("/license/end-demo")
@admin_required
def end_demo() -> Response:
    runtime().licence.end_demo()
    runtime().audit.log("licence.end_demo", actor=current_user())
    return jsonify(licence_status())
