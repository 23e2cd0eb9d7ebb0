"""``recordbase schema``: the structural operations from the command line.

Each command runs the same operation the API and the structure editor run;
``--dry-run`` prints the preview and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import click

from recordbase.errors import RecordbaseError
from recordbase.schema.operation import Operation, Outcome
from recordbase.schema.ops_entity import (
    ChangeEntity,
    CreateEntity,
    PurgeEntity,
    RemoveEntity,
    RestoreEntity,
)
from recordbase.schema.ops_field import AddField, ChangeField, PurgeField, RemoveField, RestoreField

DRY_RUN = click.option("--dry-run", is_flag=True, help="Preview only; change nothing.")


def parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{what} is not valid JSON: {exc.msg}") from exc


def execute(ctx: click.Context, op: Operation, dry_run: bool) -> None:
    from recordbase.cli import Context, describe_error

    state = ctx.find_object(Context)
    assert state is not None
    shown = {"step": -1}

    def progress(done: int, total: int) -> None:
        step = int(10 * done / max(total, 1))
        if step != shown["step"]:
            shown["step"] = step
            click.echo(f"  {done:,} of {total:,} rows", err=True)

    try:
        outcome = state.runtime.schema.execute(op, dry_run=dry_run, progress=progress)
    except RecordbaseError as exc:
        raise click.ClickException(describe_error(exc)) from exc
    show(outcome, dry_run)


def show(outcome: Outcome, dry_run: bool) -> None:
    target = ".".join(x for x in (outcome.entity, outcome.field) if x)
    verb = "Would run" if dry_run else "Done"
    click.echo(f"{verb}: {outcome.operation.replace('_', ' ')} {target}")
    for key, value in outcome.report.items():
        if key == "samples":
            for sample in value:
                click.echo(f"  record {sample['id']}: {sample['value']!r}: {sample['reason']}")
        elif key == "dependents":
            for dependent in value:
                click.echo(f"  dependent: {dependent.get('text', dependent)}")
        elif key == "recompute":
            for item in value:
                show_recompute(item)
        elif not isinstance(value, dict):
            click.echo(f"  {key}: {value}")


def show_recompute(item: dict[str, Any]) -> None:
    click.echo(
        f"  recompute {item['entity']}.{item['field']}: {item['changed']} of {item['rows']} "
        f"records get a new value, {item['failing']} do not fit"
    )
    for change in item["changes"]:
        click.echo(f"    record {change['id']}: {change['old']!r} -> {change['new']!r}")
    for sample in item["samples"]:
        click.echo(f"    record {sample['id']}: {sample['value']!r}: {sample['reason']}")


@click.group()
def schema() -> None:
    """Change the structure: entities and fields, with previews, a journal and undo."""


@schema.command("create-entity")
@click.argument("spec")
@DRY_RUN
@click.pass_context
def create_entity(ctx: click.Context, spec: str, dry_run: bool) -> None:
    """Create an entity from SPEC (JSON: name, label, fields …)."""
    execute(ctx, CreateEntity(parse_json(spec, "SPEC")), dry_run)


@schema.command("change-entity")
@click.argument("entity")
@click.argument("changes")
@DRY_RUN
@click.pass_context
def change_entity(ctx: click.Context, entity: str, changes: str, dry_run: bool) -> None:
    """Rename an entity or change its labels (CHANGES as JSON)."""
    execute(ctx, ChangeEntity(entity, parse_json(changes, "CHANGES")), dry_run)


@schema.command("remove-entity")
@click.argument("entity")
@DRY_RUN
@click.pass_context
def remove_entity(ctx: click.Context, entity: str, dry_run: bool) -> None:
    """Hide an entity (its records are kept)."""
    execute(ctx, RemoveEntity(entity), dry_run)


@schema.command("restore-entity")
@click.argument("entity")
@click.pass_context
def restore_entity(ctx: click.Context, entity: str) -> None:
    """Bring back a removed entity."""
    execute(ctx, RestoreEntity(entity), False)


@schema.command("purge-entity")
@click.argument("entity")
@click.option("--yes", is_flag=True, help="Confirm: delete the records for good.")
@DRY_RUN
@click.pass_context
def purge_entity(ctx: click.Context, entity: str, yes: bool, dry_run: bool) -> None:
    """Delete a removed entity and its records for good."""
    execute(ctx, PurgeEntity(entity, confirmed=yes), dry_run)


@schema.command("add-field")
@click.argument("entity")
@click.argument("spec")
@DRY_RUN
@click.pass_context
def add_field(ctx: click.Context, entity: str, spec: str, dry_run: bool) -> None:
    """Add a field from SPEC (JSON: name, type, options …)."""
    execute(ctx, AddField(entity, parse_json(spec, "SPEC")), dry_run)


@schema.command("change-field")
@click.argument("entity")
@click.argument("field")
@click.argument("changes")
@click.option(
    "--on-failure",
    type=click.Choice(["abort", "clear"]),
    help="What happens to values the new definition cannot hold.",
)
@DRY_RUN
@click.pass_context
def change_field(
    ctx: click.Context, entity: str, field: str, changes: str, on_failure: str | None, dry_run: bool
) -> None:
    """Rename a field or change its type, options or flags (CHANGES as JSON)."""
    data = parse_json(changes, "CHANGES")
    if not isinstance(data, dict):
        raise click.BadParameter("CHANGES is a JSON object.")
    if on_failure:
        data["on_failure"] = on_failure
    execute(ctx, ChangeField(entity, field, data), dry_run)


@schema.command("remove-field")
@click.argument("entity")
@click.argument("field")
@DRY_RUN
@click.pass_context
def remove_field(ctx: click.Context, entity: str, field: str, dry_run: bool) -> None:
    """Hide a field (its values are kept)."""
    execute(ctx, RemoveField(entity, field), dry_run)


@schema.command("restore-field")
@click.argument("entity")
@click.argument("field")
@click.pass_context
def restore_field(ctx: click.Context, entity: str, field: str) -> None:
    """Bring back a removed field with its values."""
    execute(ctx, RestoreField(entity, field), False)


@schema.command("purge-field")
@click.argument("entity")
@click.argument("field")
@click.option("--yes", is_flag=True, help="Confirm: delete the values for good.")
@DRY_RUN
@click.pass_context
def purge_field(ctx: click.Context, entity: str, field: str, yes: bool, dry_run: bool) -> None:
    """Delete a removed field and its values for good."""
    execute(ctx, PurgeField(entity, field, confirmed=yes), dry_run)


@schema.command("journal")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
@click.pass_context
def journal(ctx: click.Context, limit: int) -> None:
    """List the most recent structural changes."""
    from recordbase.cli import Context

    state = ctx.find_object(Context)
    assert state is not None
    for entry in state.runtime.schema.journal(limit=limit):
        target = ".".join(x for x in (entry["entity"], entry["field"]) if x)
        flags = "undone" if entry["undone_at"] else ("" if entry["undoable"] else "final")
        click.echo(
            f"{entry['id']:>5}  {entry['at'][:19]}  {entry['user'] or '-':<12} "
            f"{entry['operation']:<20} {target:<30} {flags}"
        )


@schema.command("undo")
@click.argument("entry_id", type=int)
@click.pass_context
def undo(ctx: click.Context, entry_id: int) -> None:
    """Undo journal entry ENTRY_ID (the most recent change of its entity first)."""
    from recordbase.cli import Context, describe_error

    state = ctx.find_object(Context)
    assert state is not None
    try:
        outcome = state.runtime.schema.undo(entry_id)
    except RecordbaseError as exc:
        raise click.ClickException(describe_error(exc)) from exc
    show(outcome, False)
