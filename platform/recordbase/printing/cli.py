"""``recordbase prints``: a configuration's print templates in and out, and a render."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from recordbase.errors import RecordbaseError


@click.group("prints")
def prints() -> None:
    """Print templates: import from and export to a configuration folder, render one."""


def _runtime() -> object:
    return click.get_current_context().find_root().obj.runtime


@prints.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_command(directory: Path) -> None:
    """Create or update the templates of DIRECTORY/print_templates/."""
    from recordbase.printing.configfiles import import_templates

    try:
        changed = import_templates(_runtime().prints, directory, user_id=None)  # type: ignore[attr-defined]
    except RecordbaseError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Imported {len(changed)} templates" + (f": {', '.join(changed)}." if changed
                                                       else " (all were up to date)."))


@prints.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(directory: Path) -> None:
    """Write the stored HTML templates to DIRECTORY/print_templates/."""
    from recordbase.printing.configfiles import export_templates

    written = export_templates(_runtime().prints, directory)  # type: ignore[attr-defined]
    click.echo(f"Wrote {len(written)} templates to {directory / 'print_templates'}.")


@prints.command("render")
@click.argument("entity")
@click.argument("template")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "docx"]), default="pdf",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
def render_command(entity: str, template: str, ids: tuple[int, ...], fmt: str,
                   output: Path | None) -> None:
    """Render TEMPLATE of ENTITY for the records IDS into one document."""
    try:
        document = _runtime().prints.render(entity, template, list(ids), fmt, None)  # type: ignore[attr-defined]
    except RecordbaseError as exc:
        raise click.ClickException(exc.message) from exc
    if output is None:
        sys.stdout.buffer.write(document.content)
    else:
        output.write_bytes(document.content)
        click.echo(f"Wrote {output} ({len(document.content)} bytes).", err=True)
