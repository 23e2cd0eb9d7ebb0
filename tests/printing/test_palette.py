"""The editor's palette offers only placeholders that print for a demo record."""

from __future__ import annotations

import pytest

from recordbase.printing import files as template_files
from recordbase.printing import sandbox
from recordbase.printing.palette import Group, build_palette
from recordbase.records.query import ListQuery
from recordbase.runtime import Runtime

from .conftest import invoice_id


def _body(groups: list[Group]) -> tuple[str, list[str]]:
    """Every snippet on a line of its own (inside its loop), and what each line holds."""
    lines: list[str] = []
    shown: list[str] = []
    for group in groups:
        for item in group.items:
            lines.append(group.wrap[0] + item.snippet + group.wrap[1])
            shown.append(f"{group.kind}/{group.subject}: {item.snippet}")
        if group.loop:
            lines.append(group.loop.replace("\n", " "))
            shown.append(f"{group.kind}/{group.subject}: loop")
    return "\n".join(lines), shown


def _render(rt: Runtime, entity: str, record_id: int, scope: str = "record") -> None:
    catalog = rt.cache.current()
    groups = build_palette(catalog, catalog.entity(entity), rt.prints.company_entity, scope)
    body, shown = _body(groups)
    user = rt.users.create("printer", "printer-password-1", role="admin", name="Пётр Печатников")
    try:
        document = rt.prints.preview(entity, {"body": body, "scope": scope}, [record_id],
                                     "html", user)
    except Exception as exc:  # the failing line names the placeholder
        line = getattr(exc, "extra", {}).get("line")
        where = shown[line - 1] if isinstance(line, int) and 0 < line <= len(shown) else "?"
        raise AssertionError(f"{where}: {exc}") from exc
    assert document.content


@pytest.mark.parametrize("entity", ["invoices", "clients", "contracts", "payments"])
def test_every_placeholder_renders_for_a_demo_record(crm: Runtime, entity: str) -> None:
    record_id = (invoice_id(crm) if entity == "invoices"
                 else crm.records.list_page(entity, ListQuery(limit=1)).items[0]["id"])
    _render(crm, entity, int(record_id))


def test_list_printouts_get_a_records_loop(crm: Runtime) -> None:
    _render(crm, "invoices", invoice_id(crm), scope="list")
    catalog = crm.cache.current()
    kinds = [g.kind for g in build_palette(catalog, catalog.entity("invoices"), "company", "list")]
    assert kinds[0] == "records"
    assert "record" not in kinds


def test_the_palette_follows_the_print_context(crm: Runtime) -> None:
    catalog = crm.cache.current()
    groups = {g.kind: g for g in build_palette(catalog, catalog.entity("invoices"), "company")}
    assert {"record", "linked", "lines", "related", "company", "user", "today",
            "helpers"} <= set(groups)
    helpers = {item.label for item in groups["helpers"].items}
    # every helper the sandbox installs has an example, and nothing else is offered
    assert helpers == set(sandbox.make_helpers("ru", __import__("datetime").date.today())
                          ["globals"]) - {"today"}
    # and every built-in partial the sandbox loads, imported and called (not only imported)
    partials = {item.hint: item.snippet for item in groups["partials"].items}
    assert set(partials) == set(template_files.partials())
    for source, snippet in partials.items():
        macro = source.removeprefix("rb/").removesuffix(".html.j2")
        assert snippet.startswith(f'{{% from "{source}" import {macro} %}}'), snippet
        assert f"{{{{ {macro}(" in snippet, f"the palette has no example call of {macro}"
    record = {item.snippet for item in groups["record"].items}
    assert "{{ record.number }}" in record
    assert "{{ money(record.total) }}" in record


def test_templates_may_use_the_helpers_filters(crm: Runtime) -> None:
    # the linter compiles a template to find its names: it must know the render's filters
    body = "{{ record.total|money }} {{ record.date|date }} {{ record.total|in_words }}"
    assert crm.prints.lint_source("invoices", body) == []
    assert crm.prints.lint_source("invoices", "{{ record.total|nope }}")[0]["kind"] == "syntax"
