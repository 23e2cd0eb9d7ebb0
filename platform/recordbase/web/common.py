"""What every page needs: the services, the signed-in user, fragments and messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Response, current_app, g, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from recordbase.access import EntityRights
from recordbase.catalog import Catalog
from recordbase.errors import PermissionDenied
from recordbase.runtime import Runtime
from recordbase.users import User

F = TypeVar("F", bound=Callable[..., Any])


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["recordbase"]
    return rt


def catalog() -> Catalog:
    """The catalog of this request (read once per request, then shared by the templates)."""
    if "catalog" not in g:
        g.catalog = runtime().cache.current()
    cat: Catalog = g.catalog
    return cat


def current_user() -> User | None:
    user: User | None = g.get("user")
    return user


def signed_in_user() -> User:
    user = current_user()
    assert user is not None, "login_required guards this view"
    return user


def actor() -> User:
    """The signed-in user as the services see the caller (with the request's address)."""
    return signed_in_user().at(request.remote_addr)


def rights(entity_name: str) -> EntityRights:
    """What the signed-in user may do with an entity (read once per request)."""
    cache: dict[str, EntityRights] = g.setdefault("rights", {})
    if entity_name not in cache:
        cache[entity_name] = runtime().records.rights(entity_name, actor())
    return cache[entity_name]


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def login_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            target = url_for("auth.login", next=request.full_path.rstrip("?"))
            if is_htmx():
                return Response(status=204, headers={"HX-Redirect": target})
            return redirect(target)
        return view(*args, **kwargs)

    return cast(F, wrapper)


def admin_required(view: F) -> F:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not signed_in_user().is_admin:
            raise PermissionDenied(_("Only an administrator may change the structure."))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def safe_next(target: str | None, default: str) -> str:
    """A local path to go back to; anything pointing elsewhere becomes ``default``."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target


def messages() -> Mapping[str, str]:
    """Sentences a redirect can ask for with ``?msg=<key>`` (never text from the URL)."""
    return {
        "saved": _("Saved."),
        "created": _("Created."),
        "deleted": _("Deleted."),
        "signed_out": _("You are signed out."),
        "view_saved": _("The view is saved."),
        "view_deleted": _("The view is deleted."),
        "structure_changed": _("The structure is changed."),
        "undone": _("The change is undone."),
    }


def message_from_query() -> str | None:
    key = request.args.get("msg")
    return messages().get(key) if isinstance(key, str) else None


def render_block(template_name: str, block: str, **context: Any) -> str:
    """One named block of a template, with the same context the whole page would get."""
    env = current_app.jinja_env
    template = env.get_template(template_name)
    ctx = dict(context)
    current_app.update_template_context(ctx)
    return "".join(template.blocks[block](template.new_context(ctx)))


def page_or_block(template_name: str, block: str, target: str, **context: Any) -> str:
    """The whole page, or only ``block`` when htmx swaps the element ``target``."""
    from flask import render_template

    if is_htmx() and request.headers.get("HX-Target") == target:
        return render_block(template_name, block, **context)
    return render_template(template_name, **context)


def redirect_back(default: str) -> Response:
    """303 to the form's ``next`` field when it is a local path, else to ``default``."""
    target = safe_next(request.form.get("next") or request.args.get("next"), default)
    response: Response = redirect(target, code=303)  # type: ignore[assignment]
    return response


def cookie_options() -> dict[str, Any]:
    """HTTP-only, SameSite=Lax and, unless the site is served over plain HTTP on a local
    network (RECORDBASE_COOKIE_SECURE=0), Secure."""
    return {
        "secure": bool(current_app.config.get("WEB_COOKIE_SECURE", True)),
        "httponly": True,
        "samesite": "Lax",
        "path": "/",
    }


def set_cookie(response: BaseResponse, name: str, value: str, **extra: Any) -> None:
    response.set_cookie(name, value, **cookie_options(), **extra)


def delete_cookie(response: BaseResponse, name: str) -> None:
    response.delete_cookie(name, **cookie_options())
