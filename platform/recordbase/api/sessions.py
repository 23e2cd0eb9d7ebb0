"""Who is signed in, from where and since when; an administrator can end a session."""

from __future__ import annotations

from flask import Response, jsonify

from recordbase.api import bp
from recordbase.api.auth import admin_required, current_user, runtime
from recordbase.errors import NotFound


@bp.get("/sessions")
@admin_required
def list_sessions() -> Response:
    return jsonify({"items": runtime().users.live_sessions()})


@bp.delete("/sessions/<int:session_id>")
@admin_required
def end_session(session_id: int) -> tuple[str, int]:
    runtime().users.session_owner(session_id)  # NotFound for an unknown id
    if not runtime().users.end_session(session_id, actor=current_user(), reason="ended_by_admin"):
        raise NotFound(f"Session {session_id} has already ended.")
    return "", 204
