"""The home page, the navigation by section and the choice of language."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from recordbase.model import EntityDef
from recordbase.web.common import (
    actor,
    current_user,
    login_required,
    message_from_query,
    redirect_back,
    runtime,
    set_cookie,
)
from recordbase.web.i18n import LANGUAGE_COOKIE, LANGUAGES, locale_code

bp = Blueprint("home", __name__)


@dataclass(frozen=True)
class Section:
    entity: EntityDef
    url: str

    @property
    def label(self) -> str:
        return self.entity.label_plural


def _menu_order(indexed: tuple[int, EntityDef]) -> tuple[bool, int, int]:
    created, entity = indexed
    position = entity.nav.position
    return (position is None, position or 0, created)


def sections() -> list[Section]:
    """The sections of the menu: the entities the user may read and the configuration does
    not hide, by their navigation position, then in the order of creation (lines of child
    tables are edited inside their parent and get no section). A hidden section's pages
    stay reachable by address, links and tabs."""
    readable = runtime().access.readable_entities(actor())
    shown = [e for e, _rights in readable if not e.child and not e.nav.hidden]
    return [
        Section(e, url_for("lists.index", entity=e.name))
        for _created, e in sorted(enumerate(shown), key=_menu_order)
    ]


def _nav() -> dict[str, object]:
    if current_user() is None:
        return {"languages": LANGUAGES, "locale": locale_code(), "flash": message_from_query()}
    everything = sections()
    return {
        "languages": LANGUAGES,
        "locale": locale_code(),
        "nav_sections": [s for s in everything if not s.entity.directory],
        "nav_directories": [s for s in everything if s.entity.directory],
        "flash": message_from_query(),
    }


def init_app(app: Flask) -> None:
    app.context_processor(_nav)


@bp.get("/")
@login_required
def index() -> str:
    return render_template("home.html")


@bp.post("/language")
def language() -> BaseResponse:
    chosen = request.form.get("language", "")
    response = redirect_back(url_for("home.index"))
    if chosen in LANGUAGES:
        set_cookie(response, LANGUAGE_COOKIE, chosen, max_age=3600 * 24 * 365)
    return response
