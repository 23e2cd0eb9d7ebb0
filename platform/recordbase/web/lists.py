"""List views: columns, sort, filters, quick search, keyset paging, saved views,
bulk delete and export; the type-ahead picker; a card's tabs of linked records."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from recordbase import access as acl
from recordbase.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RecordbaseError,
    ValidationError,
)
from recordbase.model import EntityDef, FieldDef
from recordbase.records.query import FilterSpec, ListQuery
from recordbase.records.service import Page, title_field
from recordbase.web import saved_views
from recordbase.web.common import (
    actor,
    catalog,
    is_htmx,
    login_required,
    page_or_block,
    redirect_back,
    rights,
    runtime,
    safe_next,
    signed_in_user,
)
from recordbase.web.i18n import locale_code, localised_error
from recordbase.web.listing import (
    PAGE_SIZES,
    ListDefaults,
    ListState,
    columns_of,
    default_columns,
    defaults_from_layout,
    parse_state,
    rows_of,
)
from recordbase.web.widgets import user_choices, widget_for

bp = Blueprint("lists", __name__, url_prefix="/r")

MAX_BULK = 500
EXPORT_LIMIT = 100_000
PICK_LIMIT = 12
RELATED_LIMIT = 20
TREE_LIMIT = 5000


def entity_of(name: str) -> EntityDef:
    """A live entity as the signed-in user sees it (their hidden fields are gone);
    child-table lines live inside their parent and have no pages of their own."""
    entity = catalog().entity(name)
    if entity.child:
        raise NotFound(f"There is no entity named {name!r}.")
    return acl.view(entity, rights(entity.name))


def record_id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 18 or int(text) < 1:
        raise ValidationError(_("A record is chosen by its number."), fields={"id": text[:40]})
    return int(text)


def _args_of_view(entity: EntityDef) -> tuple[MultiDict[str, str], saved_views.SavedView | None]:
    view_text = request.args.get("view")
    if view_text is None:
        return request.args, None
    view = saved_views.get(runtime(), entity.name, record_id(view_text), signed_in_user())
    return MultiDict(parse_qsl(view.query, keep_blank_values=False)), view


@bp.get("/<entity>/")
@login_required
def index(entity: str) -> str | tuple[str, int] | tuple[str, int, dict[str, str]]:
    ent = entity_of(entity)
    args, active = _args_of_view(ent)
    if ent.tree and not args:
        return _tree(ent)
    error = None
    allowed = rights(ent.name)
    if "read" not in allowed.actions:
        raise PermissionDenied(_("You may not read %(what)s.", what=ent.label_plural))
    try:
        state = parse_state(ent, args, list_defaults(ent))
        page = runtime().records.list_page(ent.name, state.query(), actor=actor())
    except ValidationError as exc:
        localised_error(exc)
        error = exc.message
        state = ListState(ent, default_columns(ent))
        page = Page([], None)
    cat = catalog()
    columns = columns_of(cat, state)
    context: dict[str, Any] = {
        "entity": ent,
        "state": state,
        "columns": columns,
        "all_fields": ent.fields,
        "filter_columns": [
            (c, widget_for(c.ftype).filter_ops(c.ftype)) for c in columns_of(
                cat, ListState(ent, list(ent.fields))
            )
        ],
        "rows": rows_of(cat, ent, columns, page, locale_code()),
        "next_cursor": page.next,
        "previous_cursor": page.previous,
        "error": error,
        "views": saved_views.visible(runtime(), ent.name, signed_in_user()),
        "view_editable": saved_views.editable,
        "active_view": active,
        "page_sizes": PAGE_SIZES,
        "users": lazy_users,
        "can": allowed.actions,
    }
    body = page_or_block("records/list.html", "table", "records-table", **context)
    if is_htmx():
        # the address bar shows the list's canonical query, not every blank filter input
        query = state.query_string(paging=True)
        pushed = url_for("lists.index", entity=ent.name) + (f"?{query}" if query else "")
        return body, 200, {"HX-Push-Url": pushed}
    return (body, 422) if error else body


def lazy_users() -> list[tuple[int, str]]:
    return user_choices(runtime())


def _tree(ent: EntityDef) -> str:
    """A tree directory: every entry under its parent (directories are small)."""
    items: list[dict[str, Any]] = []
    after = None
    title = title_field(catalog(), ent)
    sort = (title.name,) if title is not None and catalog().type_of(title).sortable else ()
    while len(items) < TREE_LIMIT:
        page = runtime().records.list_page(
            ent.name, ListQuery(sort=sort, limit=500, after=after), actor=actor()
        )
        items.extend(page.items)
        if page.next is None:
            break
        after = page.next
    titles = {it["id"]: record_title(ent, it) for it in items}
    children: dict[int | None, list[int]] = {}
    known = set(titles)
    for it in items:
        parent = it.get("parent")
        children.setdefault(parent if parent in known else None, []).append(it["id"])
    return render_template(
        "records/tree.html", entity=ent, titles=titles, children=children,
        truncated=len(items) >= TREE_LIMIT, can=rights(ent.name).actions,
    )


def tree_paths(ent: EntityDef) -> list[tuple[int, str]]:
    """Every entry of a tree directory as (id, "Parent / Child"), in path order."""
    items: list[dict[str, Any]] = []
    after = None
    while len(items) < TREE_LIMIT:
        page = runtime().records.list_page(
            ent.name, ListQuery(limit=500, after=after), actor=actor()
        )
        items.extend(page.items)
        if page.next is None:
            break
        after = page.next
    titles = {it["id"]: record_title(ent, it) for it in items}
    parents = {it["id"]: it.get("parent") for it in items}

    def path(i: int) -> str:
        parts: list[str] = []
        seen: set[int] = set()
        cur: int | None = i
        while cur is not None and cur in titles and cur not in seen:
            seen.add(cur)
            parts.append(titles[cur])
            cur = parents.get(cur)
        return " / ".join(reversed(parts))

    return sorted(((i, path(i)) for i in titles), key=lambda p: p[1].casefold())


def record_title(ent: EntityDef, item: dict[str, Any]) -> str:
    title = title_field(catalog(), ent)
    if title is None:
        return f"#{item['id']}"
    text = catalog().type_of(title).display(title, item.get(title.name), locale_code())
    return text or f"#{item['id']}"


# --- saved views -------------------------------------------------------------------------


@bp.post("/<entity>/views")
@login_required
def save_view(entity: str) -> BaseResponse:
    ent = entity_of(entity)
    query = request.form.get("query", "")
    parse_state(ent, MultiDict(parse_qsl(query)))  # refuse a view that could not be shown
    name, shared = request.form.get("name", ""), request.form.get("shared") == "true"
    replace = request.form.get("replace", "").strip()
    if replace:  # save over a view the user owns (or any, for an administrator)
        view_id = saved_views.update(runtime(), ent.name, record_id(replace), name, query,
                                     shared, signed_in_user())
    else:
        view_id = saved_views.save(runtime(), ent.name, name, query, shared, signed_in_user())
    return _redirect(url_for("lists.index", entity=ent.name, view=view_id, msg="view_saved"))


@bp.post("/<entity>/views/<view_id>/delete")
@login_required
def delete_view(entity: str, view_id: str) -> BaseResponse:
    ent = entity_of(entity)
    saved_views.delete(runtime(), ent.name, record_id(view_id), signed_in_user())
    return _redirect(url_for("lists.index", entity=ent.name, msg="view_deleted"))


def _redirect(target: str) -> BaseResponse:
    from flask import redirect

    return redirect(target, code=303)


# --- bulk delete and export ---------------------------------------------------------------


@bp.post("/<entity>/delete")
@login_required
def bulk_delete(entity: str) -> BaseResponse | str | tuple[str, int]:
    ent = entity_of(entity)
    ids = sorted({record_id(t) for t in request.form.getlist("ids")})
    back = url_for("lists.index", entity=ent.name)
    if not ids:
        raise ValidationError(_("Choose the records to delete first."), fields={"ids": "None."})
    if len(ids) > MAX_BULK:
        raise ValidationError(
            _("At most %(n)d records can be deleted at once.", n=MAX_BULK),
            fields={"ids": "Too many."},
        )
    if request.form.get("confirm") != "true":
        return render_template(
            "records/confirm_delete.html", entity=ent, ids=ids,
            next=safe_next(request.form.get("next"), back),
        )
    failures: list[str] = []
    deleted = 0
    for rid in ids:
        try:
            runtime().records.delete(ent.name, rid, actor=actor())
            deleted += 1
        except (Conflict, NotFound) as exc:
            localised_error(exc)
            failures.append(f"#{rid}: {exc.message}")
    if not failures:
        return redirect_back(back + "?msg=deleted")
    page = render_template(
        "records/bulk_result.html", entity=ent, deleted=deleted, failures=failures,
        next=safe_next(request.form.get("next"), back),
    )
    return page, 409


@bp.get("/<entity>/export.csv")
@login_required
def export_csv(entity: str) -> Response:
    ent = entity_of(entity)
    state = parse_state(ent, request.args, list_defaults(ent))
    cat = catalog()
    fields = [f for f in state.columns]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", *[f.label for f in fields]])
    query = state.query()
    count = 0
    after = None
    while count < EXPORT_LIMIT:
        page = runtime().records.list_page(
            ent.name,
            ListQuery(filters=query.filters, sort=query.sort, q=query.q, limit=500, after=after),
            actor=actor(),
            purpose="export",
        )
        for item in page.items:
            writer.writerow(
                [item["id"], *[cat.type_of(f).export_value(f, item.get(f.name)) for f in fields]]
            )
        count += len(page.items)
        if page.next is None:
            break
        after = page.next
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment", filename=f"{ent.name}.csv")
    return response


# --- type-ahead picker and linked records ----------------------------------------------------


@bp.get("/<entity>/pick")
@login_required
def pick(entity: str) -> str:
    ent = acl.view(catalog().entity(entity), rights(entity))
    q = request.args.get("q", "").strip()[:200]
    if ent.tree:  # a directory tree is picked by its path, "Parent / Child"
        wanted = q.casefold()
        options = [(i, p) for i, p in tree_paths(ent) if wanted in p.casefold()]
        return render_template("records/_pick.html", entity=ent, options=options[:50],
                               error=None, q=q)
    title = title_field(catalog(), ent)
    sort = (title.name,) if title is not None and catalog().type_of(title).sortable else ()
    try:
        page = runtime().records.list_page(
            ent.name, ListQuery(q=q or None, sort=sort, limit=PICK_LIMIT), actor=actor()
        )
    except RecordbaseError as exc:
        localised_error(exc)
        return render_template("records/_pick.html", entity=ent, options=[], error=exc.message)
    options = [(it["id"], record_title(ent, it)) for it in page.items]
    return render_template("records/_pick.html", entity=ent, options=options, error=None, q=q)


@bp.get("/<entity>/<record>/related/<owner>/<field>")
@login_required
def related(entity: str, record: str, owner: str, field: str) -> str:
    ent = entity_of(entity)
    rid = record_id(record)
    owner_ent = entity_of(owner)
    fdef = owner_ent.field(field)
    ftype = catalog().type_of(fdef)
    if ftype.reference_target(fdef) != ent.name:
        raise NotFound(f"{owner_ent.label_plural} do not refer to {ent.label_plural} by {field!r}.")
    op = related_operator(fdef)
    state = ListState(owner_ent, [f for f in default_columns(owner_ent) if f.name != fdef.name])
    state.filters = [FilterSpec(fdef.name, op, (str(rid),))]
    state.limit = RELATED_LIMIT
    page = runtime().records.list_page(owner_ent.name, state.query(), actor=actor())
    columns = columns_of(catalog(), state)
    return render_template(
        "records/_related.html", entity=ent, record_id=rid, owner=owner_ent, field=fdef,
        columns=columns, rows=rows_of(catalog(), owner_ent, columns, page, locale_code()),
        more=page.next is not None, list_query=state.query_string(),
        can=rights(owner_ent.name).actions,
    )


def list_defaults(ent: EntityDef) -> ListDefaults | None:
    """The saved list layout of the user's role (else the general one) as the list's
    defaults; None: no list layout was saved, the list shows its first fields."""
    saved = runtime().layouts.current(ent.name, "list", signed_in_user().role)
    return None if saved is None else defaults_from_layout(ent, saved.body)


def related_operator(fdef: FieldDef) -> str:
    ops = catalog().type_of(fdef).operators
    return "eq" if "eq" in ops else "contains"


def related_fields(ent: EntityDef) -> list[tuple[EntityDef, FieldDef]]:
    """Fields of other entities whose values point at records of ``ent`` (tabs of a card)."""
    cat = catalog()
    out = []
    for owner, fdef in cat.fields_targeting(ent):
        if owner.removed or owner.child or fdef.removed:
            continue
        seen = rights(owner.name)
        if "read" not in seen.actions or fdef.name in seen.hidden:
            continue
        ftype = cat.type_of(fdef)
        if ftype.reference_target(fdef) != ent.name:
            continue
        ops = ftype.operators
        if "eq" in ops or "contains" in ops:
            out.append((owner, fdef))
    return out
