"""Print templates in the configuration exchange: export, diff, apply (all or nothing)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from recordbase.cli import main
from recordbase.configio import apply_config, export_config, load_config, plan_config
from recordbase.errors import NotFound, RecordbaseError, ValidationError
from recordbase.runtime import Runtime

SALES_CRM = Path(__file__).resolve().parents[1] / "sample_configs" / "sales_crm"
MEMO = """{#- recordbase-template
label: Memo
page: {size: A5, orientation: landscape, margins: 12}
css: |
  h1 { font-size: 14pt; }
-#}
<h1>{{ record.number }}</h1>
<p>{{ record.client.name }}</p>
"""


@pytest.fixture
def crm(tmp_path: Path) -> Path:
    target = tmp_path / "crm"
    shutil.copytree(SALES_CRM, target)
    return target


def _stored(runtime: Runtime, entity: str, name: str) -> dict:
    return runtime.prints.template(entity, name)


def test_export_diff_apply_round_trip(runtime: Runtime, crm: Path, tmp_path: Path) -> None:
    apply_config(runtime, load_config(crm))
    assert _stored(runtime, "invoices", "payment_invoice")["revision"] == 1
    out = tmp_path / "out"
    written = export_config(runtime, out)
    files = sorted(p.name for p in (out / "print_templates").iterdir())
    assert files == sorted(p.name for p in (SALES_CRM / "print_templates").iterdir())
    assert all(p in written for p in (out / "print_templates").iterdir())
    assert plan_config(runtime, load_config(out)).empty
    act = out / "print_templates" / "invoices.act.html.j2"
    act.write_text(act.read_text(encoding="utf-8").replace("<h1>", "<h1 class='act'>"),
                   encoding="utf-8")
    (out / "print_templates" / "invoices.memo.html.j2").write_text(MEMO, encoding="utf-8")
    plan = plan_config(runtime, load_config(out))
    assert plan.describe() == [
        "~ print template invoices.act body (print_templates/invoices.act.html.j2)",
        "+ print template invoices.memo (print_templates/invoices.memo.html.j2)",
    ]
    apply_config(runtime, load_config(out))
    act_now = _stored(runtime, "invoices", "act")
    assert act_now["revision"] == 2
    assert "<h1 class='act'>" in act_now["body"]
    memo = _stored(runtime, "invoices", "memo")
    assert memo["page"] == {"size": "A5", "orientation": "landscape",
                            "margins": {"top": 12.0, "right": 12.0, "bottom": 12.0,
                                        "left": 12.0}}
    assert memo["css"] == "h1 { font-size: 14pt; }"
    assert plan_config(runtime, load_config(out)).empty
    again = tmp_path / "again"
    export_config(runtime, again)
    for path in sorted((out / "print_templates").iterdir()):
        assert (again / "print_templates" / path.name).read_text(encoding="utf-8") == (
            path.read_text(encoding="utf-8")) or path.name == "invoices.memo.html.j2"
    header = yaml.safe_load(
        (again / "print_templates" / "invoices.memo.html.j2").read_text().split("\n-#}")[0]
        .removeprefix("{#- recordbase-template\n"))
    assert header["page"]["margins"] == {"top": 12, "right": 12, "bottom": 12, "left": 12}
    # re-applying the re-exported files changes nothing
    assert plan_config(runtime, load_config(again)).empty


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("<p>\n\n{% for x in %}</p>", "print_templates/invoices.bad.html.j2: line 3: Syntax error"),
        ("{#- recordbase-template\nlabel: [unclosed\n-#}\n<p></p>",
         "print_templates/invoices.bad.html.j2: the template header is not valid YAML"),
        ("{#- recordbase-template\ncolour: red\n-#}\n<p></p>",
         "unknown keys in the template header: colour"),
        ("{#- recordbase-template\npage: {size: A9}\n-#}\n<p></p>",
         "print_templates/invoices.bad.html.j2: The print template is not valid"),
    ],
)
def test_a_malformed_template_file_is_refused_naming_file_and_line(
    runtime: Runtime, crm: Path, text: str, sentence: str
) -> None:
    (crm / "print_templates" / "invoices.bad.html.j2").write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match="problem") as info:
        plan_config(runtime, load_config(crm))
    assert sentence in info.value.message
    assert runtime.cache.current().live_entities() == []  # nothing was applied


def test_apply_is_all_or_nothing_with_the_structure(runtime: Runtime, crm: Path) -> None:
    apply_config(runtime, load_config(crm))
    clients = crm / "metadata" / "clients.yaml"
    document = yaml.safe_load(clients.read_text(encoding="utf-8"))
    document["fields"].append({"name": "motto", "label": "Motto", "type": "text"})
    clients.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    uses_new = crm / "print_templates" / "clients.motto.html.j2"
    uses_new.write_text("<p>{{ record.motto }}</p>\n", encoding="utf-8")
    broken = crm / "print_templates" / "invoices.broken.html.j2"
    broken.write_text("<p>\n{{ record.totl }}</p>\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        apply_config(runtime, load_config(crm))
    assert "print_templates/invoices.broken.html.j2: line 2:" in info.value.message
    assert "has no field 'totl'" in info.value.message
    assert "Nothing was changed." in info.value.message
    assert not runtime.cache.current().entity("clients").has_field("motto")
    names = {t["name"] for t in runtime.prints.list_templates("clients")}
    assert "motto" not in names
    broken.unlink()
    # a template may use a field that the same apply adds
    apply_config(runtime, load_config(crm))
    assert runtime.cache.current().entity("clients").has_field("motto")
    assert _stored(runtime, "clients", "motto")["body"] == "<p>{{ record.motto }}</p>\n"


def test_the_cli_diff_lists_templates(runtime: Runtime, db_url: str, crm: Path) -> None:
    apply_config(runtime, load_config(crm))
    (crm / "print_templates" / "invoices.memo.html.j2").write_text(MEMO, encoding="utf-8")
    result = CliRunner().invoke(main, ["--database", db_url, "config", "diff", str(crm)])
    assert result.exit_code == 0, result.output
    assert "+ print template invoices.memo (print_templates/invoices.memo.html.j2)" in (
        result.output)


def test_every_template_header_fits_its_json_schema(runtime: Runtime, tmp_path: Path) -> None:
    import json

    from jsonschema import Draft202012Validator

    from recordbase.printing.files import HEADER, parse_template_file

    schema = json.loads((SALES_CRM.parents[1] / "metadata" / "print_template.schema.json")
                        .read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    apply_config(runtime, load_config(SALES_CRM))
    export_config(runtime, tmp_path)
    files = [*(SALES_CRM / "print_templates").iterdir(),
             *(tmp_path / "print_templates").iterdir()]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert HEADER.match(text), path
        header = parse_template_file(text, path.name).header
        assert not list(validator.iter_errors(header)), path
    assert list(validator.iter_errors({"page": {"size": "A9"}, "colour": "red"}))


def test_the_free_tier_applies_templates_but_no_structure(
    runtime: Runtime, crm: Path, tmp_path: Path
) -> None:
    apply_config(runtime, load_config(crm))
    out = tmp_path / "out"
    export_config(runtime, out)
    runtime.licence.end_demo()
    assert not runtime.licence.state().tier.structure_editing
    (out / "print_templates" / "invoices.memo.html.j2").write_text(MEMO, encoding="utf-8")
    apply_config(runtime, load_config(out))  # presentation, like layouts
    assert _stored(runtime, "invoices", "memo")["revision"] == 1
    (out / "print_templates" / "invoices.memo2.html.j2").write_text(MEMO, encoding="utf-8")
    clients = out / "metadata" / "clients.yaml"
    data = yaml.safe_load(clients.read_text(encoding="utf-8"))
    data["fields"].append({"name": "nickname", "type": "text"})
    clients.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RecordbaseError) as refused:
        apply_config(runtime, load_config(out))
    assert "free" in refused.value.message
    with pytest.raises(NotFound):
        _stored(runtime, "invoices", "memo2")
