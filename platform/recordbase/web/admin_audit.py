"""The audit log for administrators: read-only, newest first, paged, filtered by user,
action and entity (the structure journal merged in, as in the API)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _

from recordbase.audit import AuditFilter
from recordbase.errors import ValidationError
from recordbase.web.admin import admin_page
from recordbase.web.common import catalog, runtime

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")

PAGE_SIZE = 50
MAX_PAGE = 200
#: the families of actions offered in the filter (any exact action can be typed too)
ACTION_FAMILIES = ("auth", "record", "structure", "user", "role", "session", "licence",
                   "export", "print", "import", "settings")


@bp.app_template_filter("audit_details")
def audit_details(details: Any, limit: int = 300) -> str:
    """An entry's details as compact JSON, letters kept as they are, cut at ``limit``."""
    text = json.dumps(details, ensure_ascii=False, default=str, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _page_number() -> int:
    text = request.args.get("page", "1")
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise ValidationError(
            _("The page is a number from 1 to %(n)d.", n=MAX_PAGE), fields={"page": "?"}
        )
    return int(text)


def _filters() -> dict[str, Any]:
    user = request.args.get("user", "")
    action = request.args.get("action", "").strip()[:100]
    entity = request.args.get("entity", "").strip()[:100]
    if user and not (user.isdigit() and len(user) < 10):
        raise ValidationError(_("Choose the user from the list."), fields={"user": "?"})
    return {"user": int(user) if user else None, "action": action, "entity": entity}


@bp.get("/")
@admin_page
def log() -> str:
    page = _page_number()
    chosen = _filters()
    query = AuditFilter(
        user_id=chosen["user"],
        action=chosen["action"] or None,
        entity=chosen["entity"] or None,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    items = runtime().audit.entries(query)
    args: dict[str, Any] = {
        k: v for k, v in request.args.items() if k in ("user", "action", "entity") and v
    }
    more = len(items) > PAGE_SIZE and page < MAX_PAGE
    return render_template(
        "admin/audit.html",
        items=items[:PAGE_SIZE],
        chosen=chosen,
        users=runtime().users.list_users(),
        entities=list(catalog().live_entities()),
        families=ACTION_FAMILIES,
        page=page,
        newer=url_for("admin_audit.log", page=page - 1, **args) if page > 1 else None,
        older=url_for("admin_audit.log", page=page + 1, **args) if more else None,
    )
