"""The titles of the records a page links to: on PostgreSQL, for a page without
conditions in an index's order, read by the page's own statement (a subquery per link,
worked out for the rows the LIMIT keeps); otherwise, and on SQLite, by one more
statement per target. The same answer every way."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from recordbase.records.query import FilterSpec, ListQuery
from recordbase.runtime import Runtime

ROWS = 120  # more than a page, so a sort reads rows the page does not keep


@pytest.fixture
def people(runtime: Runtime) -> Runtime:
    """``people`` link to a ``team`` twice (lead and backup) and to another person
    (mentor); one team has no name, one person no team."""
    rt = runtime
    rt.schema.create_entity({"name": "teams", "title_field": "name", "fields": [
        {"name": "name", "type": "text"},
    ]})
    rt.schema.create_entity({"name": "people", "title_field": "name", "fields": [
        {"name": "name", "type": "text"},
        {"name": "rank", "type": "integer"},
        {"name": "level", "type": "integer", "indexed": True},
        {"name": "team", "type": "link", "options": {"target": "teams"}},
        {"name": "backup", "type": "link", "options": {"target": "teams"}},
        {"name": "mentor", "type": "link", "options": {"target": "people"}},
    ]})
    red = rt.records.create("teams", {"name": "Красные"})["id"]
    nameless = rt.records.create("teams", {})["id"]
    first = rt.records.create("people", {"name": "Ann", "rank": 0})["id"]
    for n in range(1, ROWS):
        rt.records.create("people", {
            "name": f"P{n}", "rank": (n * 37) % ROWS, "level": (n * 11) % ROWS,
            "team": red if n % 3 else nameless, "backup": nameless if n % 2 else None,
            "mentor": first,
        })
    return rt


def statements_of(rt: Runtime, query: ListQuery) -> tuple[Any, list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def note(_c: object, _cur: object, statement: str, params: Any, *_a: object) -> None:
        seen.append((statement, params))

    sa.event.listen(rt.engine, "before_cursor_execute", note)
    try:
        page = rt.records.list_page("people", query)
    finally:
        sa.event.remove(rt.engine, "before_cursor_execute", note)
    return page, seen


def expected_titles(rt: Runtime, items: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    teams = {str(t["id"]): t.get("name") for t in
             rt.records.list_page("teams", ListQuery(limit=10)).items}
    out: dict[str, dict[str, str]] = {}
    for item in items:
        for name in ("team", "backup"):
            if item[name] is not None:
                title = teams[str(item[name])]
                out.setdefault("teams", {})[str(item[name])] = title or f"#{item[name]}"
        if item["mentor"] is not None:
            out.setdefault("people", {})[str(item["mentor"])] = "Ann"
    return out


@pytest.mark.parametrize(("query", "in_the_page"), [
    (ListQuery(limit=20), True),
    (ListQuery(limit=20, sort=("-level",)), True),  # an index's order
    (ListQuery(limit=20, sort=("rank",)), False),  # no index: the table may be scanned
    (ListQuery(limit=20, sort=("-level",), filters=(FilterSpec("name", "startswith", ("P",)),)),
     False),
])
def test_a_page_brings_the_titles_of_what_it_links_to(
    people: Runtime, query: ListQuery, in_the_page: bool
) -> None:
    page, seen = statements_of(people, query)
    assert len(page.items) == 20
    assert page.titles == expected_titles(people, page.items)
    # statements by a list of ids: the titles' own
    by_ids = [s for s, _ in seen if "json_each" in s or "ANY (" in s]
    if people.engine.dialect.name == "postgresql" and in_the_page:
        assert by_ids == []
        assert [s for s, _ in seen if "rb_title_" in s]
    else:
        assert len(by_ids) == 2, by_ids  # teams, people
        assert not [s for s, _ in seen if "rb_title_" in s]


def test_postgresql_looks_titles_up_for_the_rows_of_the_page_only(people: Runtime) -> None:
    """The titles' subqueries run for the rows the LIMIT keeps, not for every row."""
    page, seen = statements_of(people, ListQuery(limit=20, sort=("level",)))
    if people.engine.dialect.name != "postgresql":
        assert page.titles
        return
    # the rows with a level (the NULLs, first in this order, are read by a query of their own)
    statement, params = next(s for s in seen if "rb_title_" in s[0] and "NOT NULL" in s[0])
    with people.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_indexscan = off")  # walk every row, then sort
        plan = "\n".join(
            row[0] for row in conn.exec_driver_sql(f"EXPLAIN ANALYZE {statement}", params)
        )
    assert "Sort" in plan, plan
    loops = [int(n) for n in re.findall(r"Scan on \S+ rb_link_\S+ .*loops=(\d+)", plan)]
    assert loops, plan
    assert max(loops) <= 21, plan
