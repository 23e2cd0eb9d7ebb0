"""Tokens: sign in with a login and password, then send ``Authorization: Bearer``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, current_app, g, jsonify, request

from recordbase.api import bp
from recordbase.api.jsonio import json_body
from recordbase.errors import AuthenticationError, PermissionDenied, ValidationError
from recordbase.runtime import Runtime
from recordbase.users import User

F = TypeVar("F", bound=Callable[..., Any])


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["recordbase"]
    return rt


def current_user() -> User:
    user: User = g.user
    return user


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError(
                "Sign in first: send Authorization: Bearer <token> (POST /api/v1/auth/token)."
            )
        g.user = runtime().users.resolve(token.strip())
        return view(*args, **kwargs)

    return cast(F, wrapper)


def admin_required(view: F) -> F:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user().is_admin:
            raise PermissionDenied("Only an administrator may change the structure.")
        return view(*args, **kwargs)

    return cast(F, wrapper)


@bp.post("/auth/token")
def issue_token() -> tuple[Response, int]:
    body = json_body()
    if not isinstance(body, dict) or set(body) - {"username", "password"}:
        raise ValidationError('Send {"username": ..., "password": ...} and nothing else.')
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        raise ValidationError(
            "Both the username and the password are required.",
            fields={"username": "Required.", "password": "Required."},
        )
    user = runtime().users.authenticate(username, password)
    token = runtime().users.open_session(user, kind="api", address=request.remote_addr)
    return jsonify({"token": token}), 201


@bp.delete("/auth/token")
@login_required
def revoke_token() -> tuple[str, int]:
    session_id = current_user().session_id
    if session_id is not None:
        runtime().users.end_session(session_id)
    return "", 204
