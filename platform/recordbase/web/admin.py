"""Administration pages: the users directory, signed-in sessions and the licence.

Administrators only: every view passes ``admin_page``, which sends a visitor to
sign-in and refuses a signed-in non-administrator with a 403 sentence. The pages
call the same services as the JSON API (``UserService``, ``LicenceService``), so
the licence's user limit, the last-administrator rule and the audit entries hold
here as there. One-time passwords are generated here, shown once on the response
page and never stored in clear.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from recordbase.api.licence import licence_status
from recordbase.errors import NotFound, PermissionDenied, RecordbaseError, ValidationError
from recordbase.users import generate_password
from recordbase.web.common import actor, current_user, login_required, runtime, signed_in_user
from recordbase.web.i18n import localised_error

bp = Blueprint("admin", __name__, url_prefix="/admin")

F = TypeVar("F", bound=Callable[..., Any])
MAX_KEY_LENGTH = 20_000
#: views of this blueprint outside the users tab
OTHER_TABS = {
    "sessions": "sessions",
    "end_session": "sessions",
    "licence": "licence",
    "install_licence": "licence",
    "end_demo": "licence",
}


def admin_page(view: F) -> F:
    """Signed-in administrators only; anyone else signed in gets a 403 sentence."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not signed_in_user().is_admin:
            raise PermissionDenied(
                _("Only an administrator may manage users, roles, sessions and the licence.")
            )
        return view(*args, **kwargs)

    return cast(F, wrapper)


def notices() -> Mapping[str, str]:
    """Sentences a redirect asks for with ``?done=<key>`` (never text from the URL)."""
    return {
        "user_saved": _("The user is saved."),
        "role_created": _("The role is created."),
        "role_saved": _("The role is saved."),
        "role_deleted": _("The role is deleted."),
        "rights_saved": _("The rights are saved."),
        "session_ended": _("The session is ended; its next request goes to sign-in."),
        "licence_installed": _("The licence is installed."),
        "demo_ended": _("Demo mode is over: the free tier applies until a licence is installed."),
        "password_changed": _("Your password is changed; your other sessions have ended."),
        "token_revoked": _("The token is revoked; it no longer works."),
        "session_ended_own": _("The session is ended."),
        "sessions_ended": _("Your other sessions are ended."),
    }


def notice() -> str | None:
    key = request.args.get("done")
    return notices().get(key) if isinstance(key, str) else None


def structure_editing() -> bool:
    """Whether the licence in force allows structure editing (read once per request)."""
    if "structure_editing" not in g:
        g.structure_editing = runtime().licence.state().tier.structure_editing
    return bool(g.structure_editing)


def free_tier_sentence() -> str:
    return str(_(
        "On the free tier the structure cannot be changed: entities and fields cannot be "
        "created, changed or removed. Install a licence on the Licence page to change it."
    ))


def admin_tab() -> str:
    """Which tab of the administration pages this request belongs to."""
    endpoint = request.endpoint or ""
    area, _dot, view = endpoint.partition(".")
    if area != "admin":
        return area.removeprefix("admin_")
    tab: str = OTHER_TABS.get(view, "users")
    return tab


def init_app(app: Flask) -> None:
    app.jinja_env.globals["admin_tab"] = admin_tab
    app.jinja_env.globals["structure_editing"] = structure_editing
    app.jinja_env.globals["free_tier_sentence"] = free_tier_sentence
    app.jinja_env.globals["admin_notice"] = notice


@bp.get("/")
@admin_page
def index() -> BaseResponse:
    return redirect(url_for("admin.users"))


# --- users ---------------------------------------------------------------------------------


def _roles() -> list[dict[str, Any]]:
    return runtime().access.roles()


def _users_context(**extra: Any) -> dict[str, Any]:
    status = licence_status()
    limit = status["users_max"]
    full = limit is not None and int(str(status["users"])) >= int(str(limit))
    context: dict[str, Any] = {
        "users": runtime().users.list_users(),
        "roles": _roles(),
        "status": status,
        "full": full,
        "error": None,
        "form": {},
        "created": None,
    }
    context.update(extra)
    return context


@bp.get("/users")
@admin_page
def users() -> str:
    return render_template("admin/users.html", **_users_context())


def _text(name: str, limit: int = 400) -> str:
    value = request.form.get(name, "").strip()
    if len(value) > limit:
        raise ValidationError(
            _("%(field)s is longer than %(n)d characters.", field=name, n=limit),
            fields={name: _("Too long.")},
        )
    return value


@bp.post("/users")
@admin_page
def create_user() -> tuple[str, int]:
    password = generate_password()
    try:
        user = runtime().users.create(
            _text("login"),
            password,
            role=request.form.get("role", "user"),
            name=_text("name"),
            email=_text("email") or None,
            group=_text("group") or None,
            actor=actor(),
        )
    except RecordbaseError as exc:
        localised_error(exc)
        page = render_template("admin/users.html", **_users_context(error=exc, form=request.form))
        return page, exc.status
    created = {"user": runtime().users.get(user.id), "password": password, "reset": False}
    return render_template("admin/users.html", **_users_context(created=created)), 201


@bp.get("/users/<int:user_id>")
@admin_page
def user(user_id: int) -> str:
    return render_template(
        "admin/user.html", user=runtime().users.get(user_id), roles=_roles(), error=None,
        form=None,
    )


@bp.post("/users/<int:user_id>")
@admin_page
def update_user(user_id: int) -> BaseResponse | tuple[str, int]:
    current = runtime().users.get(user_id)
    changes = {
        "login": _text("login", 150),
        "name": _text("name"),
        "email": _text("email") or None,
        "group": _text("group") or None,
        "role": request.form.get("role", current["role"]),
        "active": request.form.get("active") == "true",
    }
    changes = {k: v for k, v in changes.items() if v != current[k]}
    try:
        if changes:
            runtime().users.update(user_id, changes, actor=actor())
    except RecordbaseError as exc:
        localised_error(exc)
        page = render_template(
            "admin/user.html", user=current, roles=_roles(), error=exc, form=request.form
        )
        return page, exc.status
    return redirect(url_for("admin.user", user_id=user_id, done="user_saved"), code=303)


@bp.post("/users/<int:user_id>/password")
@admin_page
def reset_password(user_id: int) -> str:
    """A new one-time password for the user; every session of theirs ends."""
    password = generate_password()
    runtime().users.reset_password(user_id, password, actor=actor())
    created = {"user": runtime().users.get(user_id), "password": password, "reset": True}
    return render_template("admin/users.html", **_users_context(created=created))


# --- sessions ------------------------------------------------------------------------------


@bp.get("/sessions")
@admin_page
def sessions() -> str:
    me = current_user()
    return render_template(
        "admin/sessions.html",
        sessions=runtime().users.live_sessions(),
        own_session=me.session_id if me else None,
        status=licence_status(),
    )


@bp.post("/sessions/<int:session_id>/end")
@admin_page
def end_session(session_id: int) -> BaseResponse:
    runtime().users.session_owner(session_id)  # NotFound for an unknown id
    if not runtime().users.end_session(session_id, actor=actor(), reason="ended_by_admin"):
        raise NotFound(_("This session has already ended."))
    return redirect(url_for("admin.sessions", done="session_ended"), code=303)


# --- licence -------------------------------------------------------------------------------


def _licence_page(error: RecordbaseError | None = None, key: str = "") -> str:
    state = runtime().licence.state()
    return render_template(
        "admin/licence.html", status=licence_status(), demo=state.demo, error=error, key=key
    )


@bp.get("/licence")
@admin_page
def licence() -> str:
    return _licence_page()


@bp.post("/licence")
@admin_page
def install_licence() -> BaseResponse | tuple[str, int]:
    text = request.form.get("key", "").strip()
    rt = runtime()
    try:
        if not text:
            raise ValidationError(
                _("Paste the licence key into the field first."), fields={"key": _("Required.")}
            )
        if len(text) > MAX_KEY_LENGTH:
            raise ValidationError(_("This is too long to be a licence key."),
                                  fields={"key": _("Too long.")})
        before = rt.licence.state().describe()
        key = rt.licence.install(text)
    except ValidationError as exc:
        localised_error(exc)
        rt.audit.log("licence.rejected", actor=actor())
        return _licence_page(exc, text[:MAX_KEY_LENGTH]), exc.status
    rt.audit.log(
        "licence.install",
        actor=actor(),
        details={"tier": key.tier, "licensee": key.licensee, "id": key.id, "before": before},
    )
    return redirect(url_for("admin.licence", done="licence_installed"), code=303)


@bp.post("/licence/end-demo")
@admin_page
def end_demo() -> BaseResponse | tuple[str, int]:
    if request.form.get("confirm") != "true":
        error = ValidationError(
            _("Tick the box to confirm that demo mode should end now; nothing was changed."),
            fields={"confirm": _("Required.")},
        )
        return _licence_page(error), 422
    runtime().licence.end_demo()
    runtime().audit.log("licence.end_demo", actor=actor())
    return redirect(url_for("admin.licence", done="demo_ended"), code=303)
