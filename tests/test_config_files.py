"""Configuration files on their own: the JSON Schemas, safe YAML, what load_config refuses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from recordbase.configio import load_config
from recordbase.configio.export import dump_yaml, sorted_keys
from recordbase.configio.files import MAX_FILE_BYTES, schema_dir
from recordbase.errors import ValidationError

SALES_CRM = Path(__file__).resolve().parents[1] / "sample_configs" / "sales_crm"


def write_entity(root: Path, stem: str, content: Any) -> Path:
    folder = root / "metadata"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.yaml"
    text = content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def refused(root: Path) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        load_config(root)
    return info.value


def minimal(name: str = "clients", **extra: Any) -> dict[str, Any]:
    return {"name": name, "fields": [{"name": "name", "type": "text"}], **extra}


@pytest.mark.parametrize("name", ["entity", "field", "data"])
def test_the_json_schemas_are_valid_draft_2020_12(name: str) -> None:
    document = json.loads((schema_dir() / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_sales_crm_loads() -> None:
    config = load_config(SALES_CRM)
    assert set(config.entities) == {
        "client_categories", "clients", "contacts", "product_categories", "products",
        "contracts", "invoices", "invoice_lines", "payments", "events", "company",
    }
    assert config.ordered()[0].name == "client_categories"
    assert config.entities["clients"].shown == "metadata/clients.yaml"


def test_a_folder_without_metadata_is_refused(tmp_path: Path) -> None:
    assert "has no metadata/ folder" in refused(tmp_path).message


def test_an_empty_metadata_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "metadata").mkdir()
    assert "holds no entity files" in refused(tmp_path).message


def test_unknown_keys_are_named_with_their_file_and_place(tmp_path: Path) -> None:
    spec = minimal(colour="red")
    spec["fields"][0]["widget"] = "wide"
    write_entity(tmp_path, "clients", spec)
    error = refused(tmp_path)
    assert "metadata/clients.yaml: unknown keys ('colour' was unexpected)" in error.message
    assert "metadata/clients.yaml: fields[0]: unknown keys ('widget' was unexpected)" in (
        error.message
    )
    assert set(error.fields) == {"metadata/clients.yaml", "metadata/clients.yaml: fields[0]"}


def test_every_broken_file_is_reported_at_once(tmp_path: Path) -> None:
    write_entity(tmp_path, "clients", minimal(colour="red"))
    write_entity(tmp_path, "contacts", minimal("contacts", directory="yes"))
    error = refused(tmp_path)
    assert "2 problems" in error.message
    assert "metadata/contacts.yaml: directory: 'yes' is not of type 'boolean'" in error.message


@pytest.mark.parametrize(
    "name",
    ['x"; DROP TABLE clients;--', "Clients", "1st", "klient\u0441", "a-b", "a" * 300, ""],
)
def test_hostile_entity_names_are_refused(tmp_path: Path, name: str) -> None:
    write_entity(tmp_path, "evil", minimal(name))
    error = refused(tmp_path)
    assert "metadata/evil.yaml: name:" in error.message


def test_a_300_character_name_is_reported_by_its_length_not_echoed(tmp_path: Path) -> None:
    spec = minimal()
    spec["fields"][0]["name"] = "f" * 300
    write_entity(tmp_path, "clients", spec)
    error = refused(tmp_path)
    assert "fields[0].name: is 300 characters long; at most 63 are allowed" in error.message
    assert "f" * 100 not in error.message


def test_the_file_name_must_be_the_entity_name(tmp_path: Path) -> None:
    write_entity(tmp_path, "customers", minimal("clients"))
    assert "name the file clients.yaml" in refused(tmp_path).message


def test_reserved_names_duplicates_and_a_missing_title_field(tmp_path: Path) -> None:
    spec = minimal(title_field="title")
    spec["fields"] += [{"name": "name", "type": "integer"}, {"name": "id", "type": "text"}]
    write_entity(tmp_path, "clients", spec)
    write_entity(tmp_path, "users", minimal("users"))
    error = refused(tmp_path)
    assert "fields[1].name: the field 'name' is listed twice" in error.message
    assert "fields[2].name: The field name 'id' is reserved" in error.message
    assert "title_field: 'title' is not one of the entity's fields" in error.message
    assert "metadata/users.yaml: name: The entity name 'users' is reserved" in error.message


def test_a_tree_must_be_a_directory_and_lines_cannot_be_one(tmp_path: Path) -> None:
    write_entity(tmp_path, "a", minimal("a", tree=True))
    write_entity(tmp_path, "b", minimal("b", child=True, directory=True))
    error = refused(tmp_path)
    assert "metadata/a.yaml: tree: only a directory can be a tree" in error.message
    assert "metadata/b.yaml: child: an entity of child-table lines cannot be a directory" in (
        error.message
    )


def test_python_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    write_entity(tmp_path, "clients", (
        f"name: !!python/object/apply:os.system ['touch {marker}']\nfields: []\n"
    ))
    error = refused(tmp_path)
    assert "metadata/clients.yaml: is not valid YAML" in error.message
    assert "python/object/apply:os.system" in error.message
    assert not marker.exists()


def test_other_yaml_tags_that_json_cannot_hold_are_refused(tmp_path: Path) -> None:
    write_entity(tmp_path, "clients", "name: clients\nfields: !!set {a, b}\n")
    write_entity(tmp_path, "contacts", "name: !!binary aGVsbG8=\nfields: []\n")
    error = refused(tmp_path)
    assert "metadata/clients.yaml: fields: holds a set" in error.message
    assert "metadata/contacts.yaml: name: holds a bytes" in error.message


def test_a_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    padding = "# " + "x" * 1000 + "\n"
    write_entity(tmp_path, "clients", "name: clients\n" + padding * (3 * 1024))
    error = refused(tmp_path)
    assert (tmp_path / "metadata" / "clients.yaml").stat().st_size > MAX_FILE_BYTES
    assert "metadata/clients.yaml: is larger than 2 MB" in error.message


def test_yaml_aliases_are_refused(tmp_path: Path) -> None:
    laughs = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        laughs += f"{level}: &{level} [*{previous},*{previous},*{previous},*{previous}]\n"
    write_entity(tmp_path, "clients", laughs)
    assert "metadata/clients.yaml: uses a YAML alias (line 2)" in refused(tmp_path).message


@pytest.mark.parametrize("depth", [40, 300, 500_000])
def test_deep_nesting_is_refused_quickly(tmp_path: Path, depth: int) -> None:
    write_entity(tmp_path, "clients", "name: clients\nfields: " + "[" * depth + "]" * depth)
    error = refused(tmp_path)
    assert "metadata/clients.yaml: is nested more than 32 levels deep" in error.message


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / "metadata").mkdir()
    (tmp_path / "metadata" / "contacts.yaml").write_bytes(b"name: contacts\xff\n")
    assert "metadata/contacts.yaml: is not UTF-8 text (byte 14)" in refused(tmp_path).message


def test_non_text_keys_and_yml_files_are_refused(tmp_path: Path) -> None:
    write_entity(tmp_path, "clients", "name: clients\n1: one\n")
    (tmp_path / "metadata" / "contacts.yml").write_text("name: contacts\n", encoding="utf-8")
    error = refused(tmp_path)
    assert "metadata/clients.yaml: has the key 1, which is not text" in error.message
    assert "metadata/contacts.yml: name configuration files *.yaml" in error.message


def test_links_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text("name: clients\nfields: []\n", encoding="utf-8")
    (tmp_path / "config" / "metadata").mkdir(parents=True)
    (tmp_path / "config" / "metadata" / "clients.yaml").symlink_to(outside)
    assert "is not a regular file" in refused(tmp_path / "config").message


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    write_entity(tmp_path, "clients", "- name: clients\n")
    assert "metadata/clients.yaml: must hold one entity" in refused(tmp_path).message


def test_other_files_next_to_the_entities_are_ignored(tmp_path: Path) -> None:
    shutil.copytree(SALES_CRM / "metadata", tmp_path / "metadata")
    (tmp_path / "metadata" / "README.md").write_text("notes", encoding="utf-8")
    assert len(load_config(tmp_path).entities) == 11


def test_dates_in_yaml_become_iso_text(tmp_path: Path) -> None:
    write_entity(tmp_path, "clients", {"name": "clients", "label": "x", "fields": [
        {"name": "since", "type": "date", "help": "d"}]})
    path = tmp_path / "metadata" / "clients.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("help: d", "default: 2026-01-31"),
                    encoding="utf-8")
    config = load_config(tmp_path)
    assert config.entities["clients"].fields[0]["default"] == "2026-01-31"


def test_yaml_output_is_deterministic_and_keeps_unicode() -> None:
    document = {"name": "clients", "label": "Клиент «Ա»", "fields": [
        {"options": sorted_keys({"target": "x", "on_delete": "cascade"})}]}
    text = dump_yaml(document)
    assert text == dump_yaml(json.loads(json.dumps(document)))
    assert "Клиент «Ա»" in text
    assert text.index("on_delete") < text.index("target")
    assert yaml.safe_load(text) == document
