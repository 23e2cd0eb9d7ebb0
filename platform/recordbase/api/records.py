"""Records: list with filters, sort, search and keyset paging; read, create, update, delete."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, jsonify, request, url_for

from recordbase.api import bp
from recordbase.api.auth import begins_write, current_user, login_required, runtime
from recordbase.api.jsonio import json_body
from recordbase.errors import ValidationError
from recordbase.records.query import DEFAULT_PAGE_SIZE, FilterSpec, ListQuery

FILTER_KEY = re.compile(r"^filter\[([^\[\]]{1,100})\](?:\[([a-z]{1,20})\])?$")
LIST_PARAMS = {"sort", "q", "limit", "after", "before"}
MAX_RECORD_ID = 2**63 - 1


def parse_list_query() -> ListQuery:
    filters = []
    for key in request.args:
        match = FILTER_KEY.match(key)
        if match:
            filters.append(
                FilterSpec(match.group(1), match.group(2) or "eq", tuple(request.args.getlist(key)))
            )
        elif key not in LIST_PARAMS:
            raise ValidationError(
                f"Unknown query parameter {key!r}; use filter[field][op], sort, q, limit, "
                "after or before.",
                fields={key: "Unknown parameter."},
            )
    limit_text = request.args.get("limit", str(DEFAULT_PAGE_SIZE))
    if not limit_text.isdigit() or len(limit_text) > 6:
        raise ValidationError("The limit must be a whole number.", fields={"limit": "A number."})
    sort_text = request.args.get("sort", "")
    sort = tuple(s.strip() for s in sort_text.split(",") if s.strip())
    return ListQuery(
        filters=tuple(filters),
        sort=sort,
        q=request.args.get("q"),
        limit=int(limit_text),
        after=request.args.get("after") or None,
        before=request.args.get("before") or None,
    )


def record_response(item: dict[str, Any], titles: dict[str, Any] | None = None) -> Response:
    body = dict(item)
    response = jsonify(body)
    response.headers["ETag"] = f'"{item["version"]}"'
    return response


def expected_version() -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 18:
        raise ValidationError(
            'The If-Match header must carry the record\'s version, e.g. "3".',
            fields={"If-Match": "Not a version."},
        )
    return int(text)


def check_id(record_id: int) -> int:
    if record_id > MAX_RECORD_ID:
        raise ValidationError("The record id is out of range.", fields={"id": "Out of range."})
    return record_id


@bp.get("/records/<entity>")
@login_required
def list_records(entity: str) -> Response:
    page = runtime().records.list_page(entity, parse_list_query(), actor=current_user())
    return jsonify(
        {"items": page.items, "next": page.next, "previous": page.previous, "titles": page.titles}
    )


@bp.post("/records/<entity>")
@begins_write
@login_required
def create_record(entity: str) -> tuple[Response, int, dict[str, str]]:
    item = runtime().records.create(entity, json_body(), actor=current_user())
    location = url_for("api.get_record", entity=entity, record_id=item["id"])
    return record_response(item), 201, {"Location": location}


@bp.get("/records/<entity>/<int:record_id>")
@login_required
def get_record(entity: str, record_id: int) -> Response:
    # the record document carries no titles: do not query them
    item, _titles = runtime().records.get(
        entity, check_id(record_id), with_titles=False, actor=current_user()
    )
    return record_response(item)


@bp.get("/records/<entity>/<int:record_id>/history")
@login_required
def record_history(entity: str, record_id: int) -> Response:
    """Who changed which field from what to what, and when (oldest first)."""
    items = runtime().records.history(entity, check_id(record_id), actor=current_user())
    return jsonify({"items": items})


@bp.patch("/records/<entity>/<int:record_id>")
@begins_write
@login_required
def update_record(entity: str, record_id: int) -> Response:
    item = runtime().records.update(
        entity,
        check_id(record_id),
        json_body(),
        expected_version=expected_version(),
        actor=current_user(),
    )
    return record_response(item)


@bp.delete("/records/<entity>/<int:record_id>")
@begins_write
@login_required
def delete_record(entity: str, record_id: int) -> tuple[str, int]:
    runtime().records.delete(
        entity, check_id(record_id), expected_version=expected_version(), actor=current_user()
    )
    return "", 204
