"""``recordbase users``: list, passwords, activation and roles (``create`` is in cli.py)."""

from __future__ import annotations

from typing import Any

import click

from recordbase.errors import RecordbaseError


def _runtime() -> Any:
    from recordbase.cli import Context

    state = click.get_current_context().find_object(Context)
    assert state is not None
    return state.runtime


def _user_id(login: str) -> int:
    for item in _runtime().users.list_users():
        if item["login"] == login:
            return int(item["id"])
    raise click.ClickException(f"There is no user with the login {login!r}.")


def _run(action: Any) -> Any:
    from recordbase.cli import describe_error

    try:
        return action()
    except RecordbaseError as exc:
        raise click.ClickException(describe_error(exc)) from exc


@click.command("list")
def users_list() -> None:
    """List the users: login, role, group, active, licensed."""
    for u in _runtime().users.list_users():
        flags = [] if u["active"] else ["inactive"]
        if u["active"] and not u["licensed"]:
            flags.append("beyond the licence")
        extra = f" [{', '.join(flags)}]" if flags else ""
        group = f" group {u['group']}" if u["group"] else ""
        click.echo(f"{u['id']:>5} {u['login']:<20} {u['role']:<10}{group} {u['name']}{extra}")


@click.command("set-password")
@click.argument("login")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_set_password(login: str, password_stdin: bool) -> None:
    """Set a new password (every session of the user ends)."""
    from recordbase.cli import read_password

    user_id = _user_id(login)
    password = read_password(password_stdin)
    _run(lambda: _runtime().users.reset_password(user_id, password))
    click.echo(f"The password of {login} was changed; their sessions ended.")


@click.command("deactivate")
@click.argument("login")
def users_deactivate(login: str) -> None:
    """Deactivate a user (kept with their data; their sessions end)."""
    _update(login, {"active": False}, f"{login} is inactive.")


@click.command("activate")
@click.argument("login")
def users_activate(login: str) -> None:
    """Activate a user again (refused beyond the licence's user count)."""
    _update(login, {"active": True}, f"{login} is active.")


@click.command("set-role")
@click.argument("login")
@click.argument("role")
def users_set_role(login: str, role: str) -> None:
    """Give a user another role."""
    _update(login, {"role": role}, f"{login} now has the role {role}.")


def _update(login: str, changes: dict[str, Any], done: str) -> None:
    """Change the user named by ``login`` and say ``done`` (a refusal is the command's error)."""
    user_id = _user_id(login)
    _run(lambda: _runtime().users.update(user_id, changes))
    click.echo(done)


def register_user_commands(group: click.Group) -> None:
    for command in (
        users_list,
        users_set_password,
        users_deactivate,
        users_activate,
        users_set_role,
    ):
        group.add_command(command)
