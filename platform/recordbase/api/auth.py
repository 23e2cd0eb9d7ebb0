"""Tokens: sign in with a login and password, then send ``Authorization: Bearer``.

Also the caller's own account: who am I, password change, personal API tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, jsonify, request

from recordbase import db
from recordbase.api import bp
from recordbase.api.jsonio import json_body
from recordbase.catalog import VERSION_LOCK
from recordbase.errors import AuthenticationError, NotFound, PermissionDenied, ValidationError
from recordbase.runtime import Runtime
from recordbase.users import User

F = TypeVar("F", bound=Callable[..., Any])


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["recordbase"]
    return rt


def current_user() -> User:
    user: User = g.user
    return user


def client_address() -> str | None:
    return request.remote_addr


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError(
                "Sign in first: send Authorization: Bearer <token> (POST /api/v1/auth/token)."
            )
        g.user = runtime().users.resolve(token.strip()).at(client_address())
        return view(*args, **kwargs)

    return cast(F, wrapper)


def begins_write(view: F) -> F:
    """For a view that writes records: on PostgreSQL its token check begins the write
    (``db.write_ahead``): one round trip and one connection fewer per write. Put it
    above ``login_required``."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with db.write_ahead(runtime().engine, VERSION_LOCK):
            return view(*args, **kwargs)

    return cast(F, wrapper)


def admin_required(view: F) -> F:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user().is_admin:
            raise PermissionDenied("Only an administrator may do this.")
        return view(*args, **kwargs)

    return cast(F, wrapper)


def _object(keys: set[str], required: set[str]) -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict) or set(body) - keys:
        names = ", ".join(f'"{k}"' for k in sorted(keys))
        raise ValidationError(f"Send a JSON object with {names} and nothing else.")
    missing = {k for k in required if not isinstance(body.get(k), str) or not body.get(k)}
    if missing:
        raise ValidationError(
            f"Required: {', '.join(sorted(missing))}.", fields={k: "Required." for k in missing}
        )
    return body


@bp.post("/auth/token")
def issue_token() -> tuple[Response, int]:
    body = json_body()
    if not isinstance(body, dict) or set(body) - {"username", "password", "take_over"}:
        raise ValidationError('Send {"username": ..., "password": ...} and nothing else.')
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        raise ValidationError(
            "Both the username and the password are required.",
            fields={"username": "Required.", "password": "Required."},
        )
    take_over = body.get("take_over", False)
    if not isinstance(take_over, bool):
        raise ValidationError("take_over is true or false.", fields={"take_over": "Boolean."})
    users = runtime().users
    user = users.authenticate(username, password, address=client_address())
    token = users.open_session(user, kind="api", address=client_address(), take_over=take_over)
    return jsonify({"token": token}), 201


@bp.delete("/auth/token")
@login_required
def revoke_token() -> tuple[str, int]:
    session_id = current_user().session_id
    if session_id is not None:
        runtime().users.end_session(session_id, actor=current_user())
    return "", 204


@bp.get("/auth/me")
@login_required
def me() -> Response:
    user = current_user()
    return jsonify(
        {
            "id": user.id,
            "login": user.login,
            "name": user.name,
            "role": user.role,
            "group": user.group,
            "session_id": user.session_id,
        }
    )


@bp.get("/auth/sessions")
@login_required
def my_sessions() -> Response:
    """Your own live sessions (sign-ins and personal tokens); ``current`` marks this one."""
    user = current_user()
    items = runtime().users.live_sessions(user_id=user.id)
    return jsonify({"items": [{**i, "current": i["id"] == user.session_id} for i in items]})


@bp.delete("/auth/sessions/<int:session_id>")
@login_required
def end_my_session(session_id: int) -> tuple[str, int]:
    """Sign out one of your own sessions elsewhere (someone else's reads as not found)."""
    user = current_user()
    mine = {i["id"] for i in runtime().users.live_sessions(user_id=user.id)}
    if session_id not in mine:
        raise NotFound(f"You have no live session with id {session_id}.")
    runtime().users.end_session(session_id, actor=user, reason="signed_out")
    return "", 204


@bp.post("/auth/password")
@login_required
def change_password() -> tuple[str, int]:
    body = _object({"current_password", "new_password"}, {"current_password", "new_password"})
    runtime().users.change_password(
        current_user(), body["current_password"], body["new_password"]
    )
    return "", 204


@bp.get("/auth/personal-tokens")
@login_required
def list_personal_tokens() -> Response:
    return jsonify({"items": runtime().users.personal_tokens(current_user())})


@bp.post("/auth/personal-tokens")
@login_required
def create_personal_token() -> tuple[Response, int]:
    body = _object({"name"}, {"name"})
    token_id, token = runtime().users.create_personal_token(current_user(), body["name"])
    return jsonify({"id": token_id, "name": body["name"].strip(), "token": token}), 201


@bp.delete("/auth/personal-tokens/<int:token_id>")
@login_required
def revoke_personal_token(token_id: int) -> tuple[str, int]:
    runtime().users.revoke_personal_token(current_user(), token_id)
    return "", 204
