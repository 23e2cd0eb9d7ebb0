"""Self-service for every signed-in user: their password, personal API tokens and sessions.

Changing the password needs the current one and ends the user's other sessions
(``UserService.change_password``). A new personal token is shown once on the
response page; only its hash is stored. A user sees and ends only their own
sessions and tokens.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from recordbase.errors import NotFound, RecordbaseError, ValidationError
from recordbase.sessions import PERSONAL
from recordbase.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from recordbase.web.common import actor, login_required, runtime, signed_in_user
from recordbase.web.i18n import localised_error

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(status: int = 200, **extra: Any) -> tuple[str, int]:
    me = signed_in_user()
    sessions = runtime().users.live_sessions(user_id=me.id)
    context: dict[str, Any] = {
        "sessions": [s for s in sessions if s["kind"] != PERSONAL],
        "tokens": [s for s in sessions if s["kind"] == PERSONAL],
        "own_session": me.session_id,
        "min_length": MIN_PASSWORD_LENGTH,
        "max_length": MAX_PASSWORD_LENGTH,
        "error": None,
        "new_token": None,
        "token_name": "",
    }
    context.update(extra)
    return render_template("account/index.html", **context), status


@bp.get("/")
@login_required
def index() -> tuple[str, int]:
    return _page()


@bp.post("/password")
@login_required
def change_password() -> BaseResponse | tuple[str, int]:
    form = request.form
    current = form.get("current_password", "")
    new = form.get("new_password", "")
    try:
        if not current or not new:
            raise ValidationError(
                _("Enter your current password and the new one."),
                fields={"new_password": _("Required.")},
            )
        if new != form.get("repeat_password", ""):
            raise ValidationError(
                _("The two new passwords differ; type the same one twice."),
                fields={"repeat_password": _("Differs from the new password.")},
            )
        if len(current) > 1024:  # no stored password is that long: spare the hashing
            raise ValidationError(
                _("The current password is wrong; the password was not changed."),
                fields={"current_password": _("Wrong password.")},
            )
        runtime().users.change_password(actor(), current, new)
    except RecordbaseError as exc:
        localised_error(exc)
        return _page(exc.status, error=exc)
    return redirect(url_for("account.index", done="password_changed"), code=303)


@bp.post("/tokens")
@login_required
def create_token() -> tuple[str, int]:
    name = request.form.get("name", "").strip()
    try:
        if not name:
            raise ValidationError(
                _("Give the token a name, e.g. the program that will use it."),
                fields={"name": _("Required.")},
            )
        if len(name) > 200:
            raise ValidationError(_("The name is longer than 200 characters."),
                                  fields={"name": _("Too long.")})
        token_id, token = runtime().users.create_personal_token(actor(), name)
    except RecordbaseError as exc:
        localised_error(exc)
        return _page(exc.status, error=exc, token_name=name[:200])
    return _page(201, new_token={"id": token_id, "name": name, "token": token})


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> BaseResponse:
    me = actor()
    if runtime().users.session_owner(token_id) != me.id:
        raise NotFound(_("You have no personal token with this number."))
    runtime().users.revoke_personal_token(me, token_id)
    return redirect(url_for("account.index", done="token_revoked"), code=303)


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int) -> BaseResponse:
    me = actor()
    if runtime().users.session_owner(session_id) != me.id:
        raise NotFound(_("You have no session with this number."))
    runtime().users.end_session(session_id, actor=me, reason="ended_by_user")
    if session_id == me.session_id:
        return redirect(url_for("auth.login", msg="signed_out"), code=303)
    return redirect(url_for("account.index", done="session_ended_own"), code=303)


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions() -> BaseResponse:
    me = actor()
    for item in runtime().users.live_sessions(user_id=me.id):
        if item["kind"] != PERSONAL and item["id"] != me.session_id:
            runtime().users.end_session(item["id"], actor=me, reason="ended_by_user")
    return redirect(url_for("account.index", done="sessions_ended"), code=303)
