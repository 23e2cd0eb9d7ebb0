"""The recordbase command, end to end on both databases (Click's runner, no shell)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from recordbase.cli import main

CONFIG = Path(__file__).resolve().parent.parent / "sample_configs" / "sales_crm"


def run(db_url: str, *args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(
        main, ["--database", db_url, *args], input=input, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def fails(db_url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--database", db_url, *args], catch_exceptions=False)
    assert result.exit_code != 0, result.output
    return result.output


def test_init_then_everything_else(db_url: str, tmp_path: Path) -> None:
    out = run(db_url, "init", "--config", str(CONFIG), "--demo-data")
    assert "One-time password:" in out
    assert "clients 8" in out
    again = run(db_url, "init", "--config", str(CONFIG), "--if-missing")
    assert "already initialised" in again
    assert "already initialised" in fails(db_url, "init", "--config", str(CONFIG))
    assert "Created user" in run(
        db_url, "users", "create", "anna", "--password-stdin", input="a-long-password-1\n"
    )
    assert "at least 12" in fails(db_url, "users", "create", "bob", "--password-stdin")
    exported = tmp_path / "export"
    run(db_url, "config", "export", str(exported))
    assert (exported / "metadata" / "clients.yaml").exists()
    assert "No changes" in run(db_url, "config", "diff", str(exported))
    clients = exported / "metadata" / "clients.yaml"
    clients.write_text(clients.read_text().replace("label: Client\n", "label: Customer\n", 1))
    assert "~" in run(db_url, "config", "diff", str(exported))
    assert "Applied" in run(db_url, "config", "apply", str(exported), "--yes")
    preview = run(
        db_url, "schema", "change-field", "clients", "inn", '{"type": "integer"}', "--dry-run"
    )
    assert "Would run" in preview
    assert "failing" in preview
    recompute = run(
        db_url, "schema", "add-field", "invoice_lines", '{"name": "net", "type": "money", '
        '"options": {"computed": {"multiply": ["quantity", "price"]}}}', "--dry-run",
    )
    assert "recompute invoice_lines.net:" in recompute
    assert "records get a new value, 0 do not fit" in recompute
    assert "-> '" in recompute  # a sample: old -> new
    run(db_url, "schema", "change-field", "clients", "name", '{"name": "title"}')
    journal = run(db_url, "schema", "journal", "--limit", "1")
    entry = journal.split()[0]
    assert "change_field" in journal
    run(db_url, "schema", "undo", entry)
    assert "There is no journal entry" in fails(db_url, "schema", "undo", "99999")
    assert "not valid JSON" in fails(db_url, "schema", "add-field", "clients", "{oops")


def test_failed_init_leaves_nothing(db_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    (broken / "metadata").mkdir(parents=True)
    (broken / "metadata" / "things.yaml").write_text(
        "name: things\nfields:\n  - {name: a, type: nosuch}\n"
    )
    out = fails(db_url, "init", "--config", str(broken))
    assert "nosuch" in out
    out = run(db_url, "init", "--config", str(CONFIG))
    assert "One-time password:" in out


def test_users_roles_and_activation(db_url: str) -> None:
    run(db_url, "init", "--config", str(CONFIG))
    run(db_url, "users", "create", "anna", "--password-stdin", input="a-long-password-1\n")
    assert "anna now has the role admin." in run(db_url, "users", "set-role", "anna", "admin")
    assert "The role must be one of: admin, user" in fails(
        db_url, "users", "set-role", "anna", "boss")
    assert "anna is inactive." in run(db_url, "users", "deactivate", "anna")
    listed = next(line for line in run(db_url, "users", "list").splitlines() if " anna " in line)
    assert " admin " in listed
    assert listed.endswith("[inactive]")
    assert "anna is active." in run(db_url, "users", "activate", "anna")
    assert "[inactive]" not in run(db_url, "users", "list")
    assert "There is no user with the login 'nobody'." in fails(
        db_url, "users", "deactivate", "nobody")


@pytest.mark.parametrize(
    "group",
    [
        [],
        ["init"],
        ["serve"],
        ["users", "create"],
        ["config"],
        ["config", "apply"],
        ["schema"],
        ["schema", "change-field"],
    ],
)
def test_every_command_has_help(group: list[str]) -> None:
    result = CliRunner().invoke(main, [*group, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
