"""The ``recordbase`` command."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click

from recordbase.db import default_database_url
from recordbase.errors import RecordbaseError
from recordbase.runtime import (
    Runtime,
    create_system_tables,
    drop_recordbase_tables,
    is_initialised,
    make_runtime,
    record_launch,
    upgrade_system_tables,
)

DATABASE_HELP = (
    "Database URL (default: $RECORDBASE_DATABASE_URL or sqlite:///var/recordbase.sqlite3)."
)


class Context:
    def __init__(self, database: str | None) -> None:
        self.database = database or default_database_url()
        self._runtime: Runtime | None = None
        #: a CLI run that opens the database is a launch (demo mode counts them)
        self.count_launch = True

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = make_runtime(self.database)
            upgrade_system_tables(self._runtime.engine)
            if self.count_launch:
                self._runtime.licence.count_launch()
                self._runtime.audit.apply_retention()
        return self._runtime

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.dispose()


pass_context = click.make_pass_decorator(Context)


def fail(message: str) -> None:
    raise click.ClickException(message)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database", metavar="URL", help=DATABASE_HELP)
@click.pass_context
def main(ctx: click.Context, database: str | None) -> None:
    """Recordbase: a schema-configurable records platform."""
    state = Context(database)
    ctx.obj = state
    ctx.call_on_close(state.close)


@main.command()
@click.option(
    "--config",
    "config_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Configuration folder to load (metadata/, data/ …).",
)
@click.option("--demo-data", is_flag=True, help="Also load the configuration's demo records.")
@click.option("--database", metavar="URL", help=DATABASE_HELP)
@click.option(
    "--if-missing", is_flag=True, help="Do nothing when the database is already initialised."
)
@click.option("--admin-login", default="admin", show_default=True)
@pass_context
def init(
    state: Context,
    config_dir: Path,
    demo_data: bool,
    database: str | None,
    if_missing: bool,
    admin_login: str,
) -> None:
    """Create the database from a configuration, with an administrator."""
    if database:
        state.database = database
    rt = state.runtime
    if is_initialised(rt.engine):
        if if_missing:
            click.echo(f"The database is already initialised ({_safe_url(state.database)}).")
            return
        fail("The database is already initialised; use `recordbase config apply` to change it.")
    from recordbase import configio

    leftovers = drop_recordbase_tables(rt.engine)
    if leftovers:
        click.echo(f"Removed {len(leftovers)} tables of an unfinished initialisation.")
    password = secrets.token_urlsafe(12)
    try:
        config = configio.load_config(config_dir)
        create_system_tables(rt.engine)
        plan = configio.apply_config(rt, config)
        click.echo(f"Created {len(plan.steps)} structure steps from {config_dir}.")
        from recordbase.printing.configfiles import import_templates

        templates = import_templates(rt.prints, config_dir, user_id=None)
        if templates:
            click.echo(f"Print templates: {', '.join(templates)}.")
        if demo_data:
            counts = configio.load_demo_data(rt, config_dir, user_id=None)
            click.echo("Demo records: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        # the administrator comes last: its existence marks a finished initialisation
        rt.users.create(admin_login, password, role="admin", name="Administrator")
    except RecordbaseError as exc:
        drop_recordbase_tables(rt.engine)
        fail(describe_error(exc) + " Nothing was kept.")
    click.echo("")
    click.echo(f"Administrator login: {admin_login}")
    click.echo(f"One-time password:   {password}")
    click.echo("It is shown only this once; change it after signing in.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@pass_context
def serve(state: Context, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the web application and API with gunicorn."""
    from recordbase.db import make_engine
    from recordbase.server import exec_server

    # a bare engine: the master only checks the database; each worker builds its app
    engine = make_engine(state.database)
    try:
        ready = is_initialised(engine)
        if ready:
            record_launch(engine)  # a server start is one launch, whatever its workers
    finally:
        engine.dispose()
    if not ready:
        fail("The database is not initialised; run `recordbase init --config DIR` first.")
    exec_server(state.database, host=host, port=port, workers=workers, threads=threads)


@main.group()
def users() -> None:
    """Manage users."""


@users.command("create")
@click.argument("login")
@click.option("--role", default="user", show_default=True, help="admin, user or a custom role.")
@click.option("--name", default="", help="Display name.")
@click.option("--email", default=None, help="E-mail address.")
@click.option("--group", default=None, help="Group (for the row rule \"group\").")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_context
def users_create(
    state: Context,
    login: str,
    role: str,
    name: str,
    email: str | None,
    group: str | None,
    password_stdin: bool,
) -> None:
    """Create a user."""
    password = read_password(password_stdin)
    try:
        user = state.runtime.users.create(
            login, password, role=role, name=name, email=email, group=group
        )
    except RecordbaseError as exc:
        fail(describe_error(exc))
    click.echo(f"Created {user.role} {user.login} (id {user.id}).")


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@main.group()
def config() -> None:
    """Configuration as files: export, diff (a plan) and apply."""


@config.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@pass_context
def config_export(state: Context, directory: Path) -> None:
    """Write the live configuration to DIRECTORY."""
    from recordbase import configio

    written = configio.export_config(state.runtime, directory)
    click.echo(f"Wrote {len(written)} files to {directory}.")


@config.command("diff")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@pass_context
def config_diff(state: Context, directory: Path) -> None:
    """Print what `config apply DIRECTORY` would change."""
    from recordbase import configio

    try:
        plan = configio.plan_config(state.runtime, configio.load_config(directory))
    except RecordbaseError as exc:
        fail(describe_error(exc))
    if plan.empty:
        click.echo("No changes: the database matches the files.")
    for line in plan.describe():
        click.echo(line)


@config.command("apply")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Apply without asking.")
@pass_context
def config_apply(state: Context, directory: Path, yes: bool) -> None:
    """Apply the configuration in DIRECTORY (shows the plan first)."""
    from recordbase import configio

    try:
        loaded = configio.load_config(directory)
        plan = configio.plan_config(state.runtime, loaded)
        if plan.empty:
            click.echo("No changes: the database matches the files.")
            return
        for line in plan.describe():
            click.echo(line)
        if not yes and not click.confirm("Apply these changes?", default=False):
            click.echo("Nothing was changed.")
            return
        configio.apply_config(state.runtime, loaded)
    except RecordbaseError as exc:
        fail(describe_error(exc))
    click.echo("Applied.")


def describe_error(exc: RecordbaseError) -> str:
    """The error's sentence, its per-field messages and any failing samples, as text."""
    text = _sentence(exc)
    for sample in exc.extra.get("samples", []):
        text += f"\n  record {sample['id']}: {sample['value']!r}: {sample['reason']}"
    return text


def _sentence(exc: RecordbaseError) -> str:
    details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items() if str(v) not in exc.message)
    return exc.message + (f" ({details})" if details else "")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _register_groups() -> None:
    from recordbase.cli_licence import licence
    from recordbase.cli_schema import schema
    from recordbase.cli_users import register_user_commands
    from recordbase.printing.cli import prints

    main.add_command(schema)
    main.add_command(prints)
    main.add_command(licence)
    register_user_commands(users)


_register_groups()
