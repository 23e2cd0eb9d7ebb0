"""Signing in and out: a server-side session whose token lives in an HTTP-only cookie."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from recordbase.errors import AuthenticationError, LicenceRestriction, RecordbaseError
from recordbase.web import csrf
from recordbase.web.common import (
    current_user,
    delete_cookie,
    runtime,
    safe_next,
    set_cookie,
)
from recordbase.web.i18n import localised_error

bp = Blueprint("auth", __name__)

SESSION_COOKIE = "rb_session"
MAX_LOGIN_LENGTH = 150
MAX_PASSWORD_LENGTH = 1024


def _load_user() -> None:
    g.user = None
    if request.path.startswith(("/api/", "/static/")):
        return
    token = request.cookies.get(SESSION_COOKIE)
    if token and len(token) <= 200:
        try:
            g.user = runtime().users.resolve(token)
        except AuthenticationError:
            g.drop_session_cookie = True
    csrf.check_request()


def _drop_stale_cookie(response: Response) -> Response:
    if g.pop("drop_session_cookie", False):
        delete_cookie(response, SESSION_COOKIE)
    return response


def init_app(app: Flask) -> None:
    app.before_request(_load_user)
    app.after_request(_drop_stale_cookie)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse | tuple[str, int]:
    target = safe_next(request.values.get("next"), url_for("home.index"))
    if request.method == "GET":
        if current_user() is not None:
            return redirect(target)
        return render_template("login.html", next=target, login="", error=None, take_over=False)
    login_name = request.form.get("login", "").strip()
    password = request.form.get("password", "")
    error = None
    take_over = False
    if not login_name or not password:
        error = _("Enter your login and your password.")
    elif len(login_name) > MAX_LOGIN_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
        error = _("The login or the password is wrong.")
    else:
        address = request.remote_addr
        try:
            user = runtime().users.authenticate(login_name, password, address=address)
            token = runtime().users.open_session(
                user, kind="web", address=address,
                take_over=request.form.get("take_over") == "true",
            )
        except LicenceRestriction as exc:
            localised_error(exc)
            # all seats taken: say by whom, and offer to take over one idle long enough
            error, take_over = exc.message, True
        except RecordbaseError as exc:
            localised_error(exc)
            wrong = type(exc) is AuthenticationError
            error = _("The login or the password is wrong.") if wrong else exc.message
    if error is not None:
        page = render_template(
            "login.html", next=target, login=login_name, error=error, take_over=take_over
        )
        return page, 401
    response = redirect(target, code=303)
    set_cookie(response, SESSION_COOKIE, token)
    # the pre-session CSRF secret is done with: the session token takes its place
    delete_cookie(response, csrf.PRE_SESSION_COOKIE)
    return response


@bp.post("/logout")
def logout() -> BaseResponse:
    user = current_user()
    if user is not None and user.session_id is not None:
        runtime().users.end_session(user.session_id)
    response = redirect(url_for("auth.login", msg="signed_out"), code=303)
    delete_cookie(response, SESSION_COOKIE)
    return response
