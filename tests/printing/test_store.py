"""The template store: create, save, revisions, revert, names, checks against the schema."""

from __future__ import annotations

from typing import Any

import pytest

from recordbase.errors import Conflict, NotFound, TemplateError, ValidationError
from recordbase.runtime import Runtime

BODY = "<h1>{{ record.number }}</h1><p>{{ record.client.name }}</p>"


def spec(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "short",
        "label": "Short invoice",
        "body": BODY,
        "css": "h1 { color: #333; }",
        "page": {"size": "A5", "orientation": "landscape", "margins": 12},
        **overrides,
    }


def test_create_read_save_and_list(crm: Runtime) -> None:
    prints = crm.prints
    created = prints.create("invoices", spec(), user_id=None)
    assert created["revision"] == 1
    assert created["page"] == {"size": "A5", "orientation": "landscape",
                               "margins": {"top": 12.0, "right": 12.0, "bottom": 12.0,
                                           "left": 12.0}}
    saved = prints.update("invoices", "short", spec(label="Shorter", body=BODY + "!"),
                          user_id=None)
    assert (saved["revision"], saved["label"], saved["body"]) == (2, "Shorter", BODY + "!")
    names = {t["name"]: t for t in prints.list_templates("invoices")}
    assert {"short", "payment_invoice", "invoice", "act", "register", "generic_record",
            "generic_list"} <= set(names)
    assert names["generic_record"]["builtin"]
    assert not names["short"]["broken"]


def test_revisions_and_revert_keep_the_history(crm: Runtime) -> None:
    prints = crm.prints
    prints.create("invoices", spec(), user_id=None)
    prints.update("invoices", "short", spec(body="<p>two</p>"), user_id=None)
    reverted = prints.revert("invoices", "short", 1, user_id=None)
    assert reverted["body"] == BODY
    history = prints.revisions("invoices", "short")
    assert [r["number"] for r in history] == [3, 2, 1]
    assert history[0]["note"] == "Reverted to revision 1."
    assert history[0]["current"]
    with pytest.raises(NotFound):
        prints.revert("invoices", "short", 9, user_id=None)


def test_rename_and_duplicates(crm: Runtime) -> None:
    prints = crm.prints
    prints.create("invoices", spec(), user_id=None)
    with pytest.raises(Conflict, match="already have a print template named 'short'"):
        prints.create("invoices", spec(), user_id=None)
    renamed = prints.update("invoices", "short", spec(name="brief"), user_id=None)
    assert renamed["name"] == "brief"
    with pytest.raises(Conflict):
        prints.update("invoices", "brief", spec(name="payment_invoice"), user_id=None)
    prints.delete("invoices", "brief")
    with pytest.raises(NotFound):
        prints.template("invoices", "brief")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"name": "Bad Name"}, "must start with a lowercase Latin letter"),
        ({"name": "generic_record"}, "reserved"),
        ({"page": {"size": "A2"}}, "page"),
        ({"page": {"margins": 500}}, "between 0 and 100"),
        ({"css": "</style><script>"}, "may not contain '<'"),
        ({"body": "x" * 200_001}, "body"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_specs_are_refused_with_a_sentence(
    crm: Runtime, overrides: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ValidationError) as info:
        crm.prints.create("invoices", spec(**overrides), user_id=None)
    assert expected in info.value.message + str(info.value.fields)


def test_syntax_errors_and_unknown_names_name_their_line(crm: Runtime) -> None:
    prints = crm.prints
    with pytest.raises(TemplateError) as info:
        prints.create("invoices", spec(body="<p>\n{% if record.total %}\n</p>"), user_id=None)
    assert info.value.extra["line"] == 3
    assert "Syntax error" in info.value.message
    with pytest.raises(TemplateError) as info:
        prints.create("invoices", spec(body="<p>\n\n{{ record.client.nmae }}</p>"),
                      user_id=None)
    assert info.value.message == "Line 3: Client (clients) has no field 'nmae'."
    with pytest.raises(TemplateError, match="'config' is not defined"):
        prints.create("invoices", spec(body="{{ config }}"), user_id=None)
    body = ("{% for line in record.lines %}{{ line.product.sku }}{{ line.prodcut }}"
            "{% endfor %}{{ related.payments }}{{ related.events }}")
    problems = prints.lint_source("invoices", body)
    assert [p["message"] for p in problems] == [
        "Invoice line (invoice_lines) has no field 'prodcut'.",
        "related.events: no field of 'events' links to invoices (related lists here: "
        "payments).",
    ]


def test_a_removed_field_marks_templates_broken_and_previews_list_them(crm: Runtime) -> None:
    preview = crm.schema.remove_field("clients", "kpp", dry_run=True).report["dependents"]
    texts = [d["text"] for d in preview if d.get("kind") == "print_template"]
    assert any(t.startswith("print template invoices/payment_invoice uses clients.kpp")
               for t in texts)
    assert any(t.startswith("print template invoices/act uses clients.kpp") for t in texts)
    crm.schema.remove_field("clients", "kpp")
    broken = {t["name"]: t for t in crm.prints.list_templates("invoices")}
    assert broken["payment_invoice"]["broken"]
    assert "has no field 'kpp'" in broken["payment_invoice"]["problems"][0]["message"]
    with pytest.raises(TemplateError, match="no longer matches the structure"):
        crm.prints.render("invoices", "payment_invoice", [1], "pdf", None)
    entity_preview = crm.schema.remove_entity("company", dry_run=True).report["dependents"]
    assert any(d.get("template") == "payment_invoice" for d in entity_preview)
