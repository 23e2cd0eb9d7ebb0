"""Print templates in the configuration exchange: export, diff, apply (all or nothing),
HTML files and Word documents with their sidecars."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from recordbase.cli import main
from recordbase.configio import apply_config, export_config, load_config, plan_config
from recordbase.errors import NotFound, RecordbaseError, ValidationError
from recordbase.printing.docx import MAX_DOCX_BYTES
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


def _template_file(folder: Path, stem: str, body: str, kind: str) -> Path:
    """A template file printing ``body``: HTML, or a Word document."""
    if kind == "html":
        path = folder / f"{stem}.html.j2"
        path.write_text(f"<p>\n{body}</p>\n", encoding="utf-8")
    else:
        path = folder / f"{stem}.docx"
        path.write_bytes(make_docx(body))
    return path


@pytest.mark.parametrize("kind", ["html", "docx"])
def test_apply_is_all_or_nothing_with_the_structure(
    runtime: Runtime, crm: Path, kind: str
) -> None:
    apply_config(runtime, load_config(crm))
    clients = crm / "metadata" / "clients.yaml"
    document = yaml.safe_load(clients.read_text(encoding="utf-8"))
    document["fields"].append({"name": "motto", "label": "Motto", "type": "text"})
    clients.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    folder = crm / "print_templates"
    uses_new = _template_file(folder, "clients.motto", "{{ record.motto }}", kind)
    broken = _template_file(folder, "invoices.broken", "{{ record.totl }}", kind)
    with pytest.raises(ValidationError) as info:
        apply_config(runtime, load_config(crm))
    line = "line 2: " if kind == "html" else ""
    assert f"print_templates/{broken.name}: {line}" in info.value.message
    assert "has no field 'totl'" in info.value.message
    assert "Nothing was changed." in info.value.message
    assert not runtime.cache.current().entity("clients").has_field("motto")
    names = {t["name"] for t in runtime.prints.list_templates("clients")}
    assert "motto" not in names
    broken.unlink()
    # a template may use a field that the same apply adds
    apply_config(runtime, load_config(crm))
    assert runtime.cache.current().entity("clients").has_field("motto")
    if kind == "html":
        assert _stored(runtime, "clients", "motto")["body"] == "<p>\n{{ record.motto }}</p>\n"
    else:
        assert _docx(runtime, "clients", "motto") == uses_new.read_bytes()


def test_the_cli_diff_lists_templates(runtime: Runtime, db_url: str, crm: Path) -> None:
    apply_config(runtime, load_config(crm))
    (crm / "print_templates" / "invoices.memo.html.j2").write_text(MEMO, encoding="utf-8")
    result = CliRunner().invoke(main, ["--database", db_url, "config", "diff", str(crm)])
    assert result.exit_code == 0, result.output
    assert "+ print template invoices.memo (print_templates/invoices.memo.html.j2)" in (
        result.output)


def test_every_template_header_fits_its_json_schema(runtime: Runtime, tmp_path: Path) -> None:
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


# --- Word templates ------------------------------------------------------------------


def make_docx(*paragraphs: str) -> bytes:
    from docx import Document

    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _docx(runtime: Runtime, entity: str, name: str) -> bytes:
    catalog = runtime.cache.current()
    return runtime.prints.store.get(catalog.entity(entity), name).docx or b""


def test_word_templates_round_trip(runtime: Runtime, crm: Path, tmp_path: Path) -> None:
    apply_config(runtime, load_config(crm))
    first = make_docx("Счёт № {{ record.number }}")
    runtime.prints.save_docx("invoices", "word_invoice", "Счёт (Word)", first, user_id=None)
    out = tmp_path / "out"
    written = export_config(runtime, out)
    folder = out / "print_templates"
    assert (folder / "invoices.word_invoice.docx").read_bytes() == first
    sidecar = folder / "invoices.word_invoice.docx.json"
    assert json.loads(sidecar.read_text(encoding="utf-8")) == {"label": "Счёт (Word)",
                                                               "locale": "ru"}
    assert {folder / "invoices.word_invoice.docx", sidecar} <= set(written)
    schema = json.loads((SALES_CRM.parents[1] / "metadata" / "print_template.schema.json")
                        .read_text(encoding="utf-8"))
    assert not list(Draft202012Validator(schema).iter_errors(
        json.loads(sidecar.read_text(encoding="utf-8"))))
    assert plan_config(runtime, load_config(out)).empty
    # a changed document and label, and a new document without a sidecar
    second = make_docx("Счёт № {{ record.number }}", "{{ record.client.name }}")
    (folder / "invoices.word_invoice.docx").write_bytes(second)
    sidecar.write_text('{"label": "Счёт для Word", "locale": "en"}', encoding="utf-8")
    (folder / "clients.word_card.docx").write_bytes(make_docx("{{ record.name }}"))
    plan = plan_config(runtime, load_config(out))
    assert plan.describe() == [
        "+ print template clients.word_card (print_templates/clients.word_card.docx)",
        "~ print template invoices.word_invoice label, locale, document "
        "(print_templates/invoices.word_invoice.docx)",
    ]
    apply_config(runtime, load_config(out))
    now = _stored(runtime, "invoices", "word_invoice")
    assert (now["revision"], now["label"], now["locale"], now["kind"]) == (
        2, "Счёт для Word", "en", "docx")
    assert _docx(runtime, "invoices", "word_invoice") == second
    assert _stored(runtime, "clients", "word_card")["label"] == "word_card"
    assert _docx(runtime, "clients", "word_card") == (
        folder / "clients.word_card.docx").read_bytes()
    assert plan_config(runtime, load_config(out)).empty
    # exported again: the same bytes, and the new document got its sidecar
    again = tmp_path / "again"
    export_config(runtime, again)
    for name in ("invoices.word_invoice.docx", "clients.word_card.docx"):
        assert (again / "print_templates" / name).read_bytes() == (folder / name).read_bytes()
    assert json.loads((again / "print_templates" / "clients.word_card.docx.json").read_text(
        encoding="utf-8")) == {"label": "word_card", "locale": "ru"}
    assert plan_config(runtime, load_config(again)).empty
    # a template deleted from the database: its exported files go with it
    runtime.prints.delete("clients", "word_card")
    export_config(runtime, again)
    assert not (again / "print_templates" / "clients.word_card.docx").exists()
    assert not (again / "print_templates" / "clients.word_card.docx.json").exists()


def _bad_files(folder: Path, case: str) -> str:
    """Writes the bad file of ``case``; returns the sentence the refusal must hold."""
    word = folder / "invoices.bad.docx"
    if case == "not a zip":
        word.write_bytes(b"%PDF-1.4 not a Word file")
        return "print_templates/invoices.bad.docx: The file is not a Word document (.docx)."
    if case == "no document":
        word.write_bytes(zip_of({"word/other.xml": b"<x/>"}))
        return "print_templates/invoices.bad.docx: The file is not a Word document (.docx): " \
            "it has no word/document.xml."
    if case == "zip bomb":
        word.write_bytes(zip_of({"word/document.xml": b"<w/>",
                                 "word/big.bin": b"\0" * (61 * 1024 * 1024)}))
        return "print_templates/invoices.bad.docx: The Word file expands to more than 60 MB."
    if case == "too large":
        with word.open("wb") as handle:  # sparse: no 10 MB written for real
            handle.truncate(MAX_DOCX_BYTES + 1)
        return "print_templates/invoices.bad.docx: the file is larger than 10 MB"
    if case == "bad name":
        (folder / "Invoices.Bad.docx").write_bytes(make_docx("x"))
        return "print_templates/Invoices.Bad.docx: name Word templates <entity>.<name>.docx"
    word.write_bytes(make_docx("{{ record.number }}"))
    sidecar = folder / "invoices.bad.docx.json"
    if case == "sidecar json":
        sidecar.write_text("{label: oops}", encoding="utf-8")
        return "print_templates/invoices.bad.docx: invoices.bad.docx.json is not valid JSON"
    if case == "sidecar keys":
        sidecar.write_text('{"label": "x", "page": {"size": "A4"}}', encoding="utf-8")
        return "invoices.bad.docx.json: unknown keys page; a Word template's settings are " \
            "entity, name, label, locale"
    if case == "sidecar values":
        sidecar.write_text('{"locale": "fr"}', encoding="utf-8")
        return "print_templates/invoices.bad.docx: The print template is not valid: locale"
    if case == "lone sidecar":
        word.unlink()
        sidecar.write_text('{"label": "x"}', encoding="utf-8")
        return "print_templates/invoices.bad.docx.json: there is no invoices.bad.docx beside it"
    (folder / "invoices.bad.html.j2").write_text("<p></p>", encoding="utf-8")
    return "print_templates/invoices.bad.docx: print_templates/invoices.bad.html.j2 is a " \
        "template of the same name"


@pytest.mark.parametrize("case", [
    "not a zip", "no document", "zip bomb", "too large", "bad name", "sidecar json",
    "sidecar keys", "sidecar values", "lone sidecar", "same name",
])
def test_a_bad_word_file_is_refused_naming_file_and_reason(
    runtime: Runtime, crm: Path, case: str
) -> None:
    sentence = _bad_files(crm / "print_templates", case)
    with pytest.raises(ValidationError) as info:
        plan_config(runtime, load_config(crm))
    assert "The print templates have 1 problem(s); nothing was changed" in info.value.message
    assert sentence in info.value.message
    with pytest.raises(ValidationError):
        apply_config(runtime, load_config(crm))
    assert runtime.cache.current().live_entities() == []  # nothing was applied


def test_a_word_file_does_not_replace_an_html_template(runtime: Runtime, crm: Path) -> None:
    apply_config(runtime, load_config(crm))
    (crm / "print_templates" / "invoices.act.html.j2").rename(crm / "invoices.act.html.j2")
    (crm / "print_templates" / "invoices.act.docx").write_bytes(make_docx("{{ record.number }}"))
    with pytest.raises(ValidationError) as info:
        apply_config(runtime, load_config(crm))
    assert "have an HTML template named 'act'; a Word template file cannot replace it" in (
        info.value.message)
    assert _stored(runtime, "invoices", "act")["kind"] == "html"
