"""A list's state from the query string, and the rows of a page as cells.

The query string is the API's (``filter[field][op]``, ``sort``, ``q``, ``limit``,
``after``, ``before``) plus ``cols`` (the chosen columns) and ``page`` (the number
shown), so a list's URL can be shared as is. "Previous" is a ``before`` cursor: the
page before is read by walking the same index backwards, as fast as the next one.
Blank filter inputs are dropped: a filter form posts every control.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from recordbase.catalog import Catalog
from recordbase.errors import ValidationError
from recordbase.fields.base import FieldType
from recordbase.model import EntityDef, FieldDef
from recordbase.records.query import MAX_SORT_KEYS, FilterSpec, ListQuery
from recordbase.records.service import Page
from recordbase.web.widgets import Widget, widget_for

FILTER_KEY = re.compile(r"^filter\[([a-z][a-z0-9_]{0,62})\]\[([a-z]{1,20})\]$")
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_LIMIT = 50
DEFAULT_COLUMNS = 8
MAX_PAGE_NUMBER = 10**9
CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,2000}$")


@dataclass
class ListState:
    entity: EntityDef
    columns: list[FieldDef]
    filters: list[FilterSpec] = field(default_factory=list)
    sort: tuple[str, ...] = ()
    q: str = ""
    limit: int = DEFAULT_LIMIT
    after: str | None = None
    before: str | None = None
    #: the number of the page, as the links say (the cursors do not know it)
    page: int = 1
    custom_columns: bool = False
    #: column widths in pixels by field name (the list layout's); missing: automatic
    widths: dict[str, int] = field(default_factory=dict)

    def query(self) -> ListQuery:
        return ListQuery(
            filters=tuple(self.filters), sort=self.sort, q=self.q or None, limit=self.limit,
            after=self.after, before=self.before,
        )

    def params(self, *, paging: bool = False, **changes: Any) -> list[tuple[str, str]]:
        """The query string of this state (without paging unless asked), with changes."""
        out: list[tuple[str, str]] = []
        q = changes.get("q", self.q)
        if q:
            out.append(("q", q))
        for spec in self.filters:
            for value in spec.values:
                out.append((f"filter[{spec.field}][{spec.op}]", value))
        sort = changes.get("sort", self.sort)
        if sort:
            out.append(("sort", ",".join(sort)))
        if self.custom_columns:
            out.append(("cols", ",".join(c.name for c in self.columns)))
        limit = changes.get("limit", self.limit)
        if limit != DEFAULT_LIMIT:
            out.append(("limit", str(limit)))
        if paging:
            for key in ("after", "before"):
                cursor = changes.get(key, getattr(self, key))
                if cursor:
                    out.append((key, cursor))
            page = changes.get("page", self.page)
            if page > 1:
                out.append(("page", str(page)))
        return out

    def query_string(self, **changes: Any) -> str:
        return urlencode(self.params(**changes))

    def filter_value(self, name: str, op: str) -> str:
        for spec in self.filters:
            if spec.field == name and spec.op == op:
                return ",".join(spec.values)
        return ""

    def filter_values(self, name: str, op: str) -> list[str]:
        for spec in self.filters:
            if spec.field == name and spec.op == op:
                if len(spec.values) == 1:
                    return spec.values[0].split(",")
                return list(spec.values)
        return []

    def sort_state(self, name: str) -> str | None:
        if self.sort and self.sort[0].lstrip("-") == name:
            return "descending" if self.sort[0].startswith("-") else "ascending"
        return None

    def toggled_sort(self, name: str) -> str:
        state = self.sort_state(name)
        if state == "ascending":
            return self.query_string(sort=(f"-{name}",))
        return self.query_string(sort=(name,))

    def next_query(self, cursor: str) -> str:
        return self.query_string(paging=True, after=cursor, before=None, page=self.page + 1)

    def previous_query(self, cursor: str | None) -> str | None:
        """The page before this one (``cursor``: the list's ``previous``); page 2's is the
        list's own address."""
        if cursor is None:
            return None
        if self.page <= 2:
            return self.query_string()
        return self.query_string(paging=True, after=None, before=cursor, page=self.page - 1)

    def page_number(self, previous: str | None) -> int:
        return self.page if previous is not None else 1


def default_columns(entity: EntityDef) -> list[FieldDef]:
    return list(entity.fields[:DEFAULT_COLUMNS])


@dataclass(frozen=True)
class ListDefaults:
    """What a list shows when its query string says nothing: the list layout's columns,
    widths and sort (``defaults_from_layout``)."""

    columns: list[FieldDef]
    widths: dict[str, int]
    sort: tuple[str, ...]


def defaults_from_layout(entity: EntityDef, layout: dict[str, Any]) -> ListDefaults:
    """A list layout as defaults; fields removed or hidden from the user are left out."""
    by_id = {f.id: f for f in entity.fields}
    columns = [by_id[c["field"]] for c in layout["columns"] if c["field"] in by_id]
    widths = {by_id[c["field"]].name: c["width"] for c in layout["columns"]
              if c["field"] in by_id and c.get("width")}
    sort = tuple(
        ("-" if key.get("direction") == "desc" else "") + by_id[key["field"]].name
        for key in layout.get("sort", []) if key["field"] in by_id
    )
    return ListDefaults(columns or default_columns(entity), widths, sort[:MAX_SORT_KEYS])


def parse_state(
    entity: EntityDef, args: MultiDict[str, str], defaults: ListDefaults | None = None
) -> ListState:
    """A list's state from a query string; a malformed part is a ValidationError.
    What the query string leaves out comes from ``defaults`` (the list layout)."""
    filters = []
    for key in args:
        match = FILTER_KEY.match(key)
        if not match:
            continue
        values = tuple(v.strip() for v in args.getlist(key) if v.strip())
        if values:
            filters.append(FilterSpec(match.group(1), match.group(2), values))
    sort = tuple(s.strip() for s in args.get("sort", "").split(",") if s.strip())
    if not sort and "sort" not in args and defaults is not None:
        sort = defaults.sort
    if len(sort) > MAX_SORT_KEYS:
        raise ValidationError(
            f"At most {MAX_SORT_KEYS} sort keys can be given.", fields={"sort": "Too many."}
        )
    limit_text = args.get("limit", str(DEFAULT_LIMIT))
    if not limit_text.isdigit() or int(limit_text) not in PAGE_SIZES:
        raise ValidationError(
            "The page size is one of " + ", ".join(map(str, PAGE_SIZES)) + ".",
            fields={"limit": "Unknown page size."},
        )
    columns = default_columns(entity) if defaults is None else list(defaults.columns)
    custom = False
    names = [n for text in args.getlist("cols") for n in text.split(",") if n]
    if names:
        chosen = [entity.field(n) for n in dict.fromkeys(names) if entity.has_field(n)]
        if chosen:
            columns, custom = chosen[:40], True
    cursors = {key: args.get(key, "") or None for key in ("after", "before")}
    for key, cursor in cursors.items():
        if cursor is not None and not CURSOR.match(cursor):
            raise ValidationError("The page address is not valid.", fields={key: "Not valid."})
    page_text = args.get("page", "1")
    page = int(page_text) if page_text.isdigit() and len(page_text) < 10 else 1
    q = args.get("q", "").strip()
    if len(q) > 200:
        raise ValidationError(
            "The search text is longer than 200 characters.", fields={"q": "Too long."}
        )
    widths = {} if defaults is None else dict(defaults.widths)
    return ListState(
        entity, columns, filters, sort, q, int(limit_text), cursors["after"], cursors["before"],
        max(page, 1), custom, widths,
    )


# --- cells ---------------------------------------------------------------------------


@dataclass
class Cell:
    text: str
    links: list[tuple[str, int, str]] = field(default_factory=list)
    numeric: bool = False


@dataclass
class Column:
    fdef: FieldDef
    ftype: FieldType
    widget: Widget
    sortable: bool
    numeric: bool
    width: int | None = None


@dataclass
class Row:
    id: int
    version: int
    title: str
    cells: list[Cell]


def columns_of(catalog: Catalog, state: ListState) -> list[Column]:
    out = []
    for fdef in state.columns:
        ftype = catalog.type_of(fdef)
        widget = widget_for(ftype)
        out.append(
            Column(
                fdef, ftype, widget,
                sortable=ftype.sortable and ftype.source_column(fdef) is not None,
                numeric=widget.summable,
                width=state.widths.get(fdef.name),
            )
        )
    return out


def rows_of(
    catalog: Catalog, entity: EntityDef, columns: list[Column], page: Page, locale: str
) -> list[Row]:
    from recordbase.records.service import title_field

    title = title_field(catalog, entity)
    rows = []
    for item in page.items:
        cells = []
        for col in columns:
            value = item.get(col.fdef.name)
            target = col.ftype.reference_target(col.fdef)
            if target is not None:
                shown = page.titles.get(target, {})
                links = [
                    (target, i, shown.get(str(i), f"#{i}"))
                    for i in col.ftype.referenced_ids(col.fdef, value)
                ]
                cells.append(Cell(", ".join(t for _, _, t in links), links))
                continue
            text = col.widget.display(col.ftype, col.fdef, value, locale)
            cells.append(Cell(text, numeric=col.numeric))
        heading = ""
        if title is not None:
            heading = catalog.type_of(title).display(title, item.get(title.name), locale)
        rows.append(Row(item["id"], item["version"], heading or f"#{item['id']}", cells))
    return rows
