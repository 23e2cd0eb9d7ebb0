"""``recordbase license``: vendor keys, issuing, installing and the status of the licence."""

from __future__ import annotations

from pathlib import Path

import click

from recordbase import db, systables
from recordbase.errors import RecordbaseError
from recordbase.licence import TIERS, generate_key_pair, issue_key
from recordbase.runtime import Runtime
from recordbase.sessions import holders


def _runtime() -> Runtime:
    from recordbase.cli import Context

    state = click.get_current_context().find_object(Context)
    assert state is not None
    state.count_launch = False  # looking at or changing the licence is not a launch
    return state.runtime


@click.group("license")
def licence() -> None:
    """The licence: status, install a key, leave demo mode; vendor key tools."""


@licence.command("keygen")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for licence_private.pem (keep it secret) and licence_key.pub.",
)
def keygen(out: Path) -> None:
    """Make a vendor key pair (Ed25519). The private key never goes into the repository."""
    try:
        private, public = generate_key_pair(out)
    except RecordbaseError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Private key: {private} (keep it secret, outside any repository)")
    click.echo(f"Public key:  {public} (ship it as recordbase/licence_key.pub)")


@licence.command("issue")
@click.option(
    "--private-key",
    "private_key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
)
@click.option("--tier", type=click.Choice([t for t in TIERS if t != "free"]), required=True)
@click.option("--licensee", required=True, help="The customer's name, shown in the status.")
def issue(private_key: Path, tier: str, licensee: str) -> None:
    """Sign a licence key (the vendor's command)."""
    try:
        key = issue_key(private_key.read_bytes(), tier=tier, licensee=licensee)
    except RecordbaseError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(key)


@licence.command("install")
@click.argument("key")
def install(key: str) -> None:
    """Install a licence KEY (ends demo mode)."""
    from recordbase.cli import describe_error

    rt = _runtime()
    before = rt.licence.state().describe()
    try:
        installed = rt.licence.install(key)
    except RecordbaseError as exc:
        rt.audit.log("licence.rejected", login="cli")
        raise click.ClickException(describe_error(exc)) from exc
    rt.audit.log(
        "licence.install",
        login="cli",
        details={"tier": installed.tier, "licensee": installed.licensee, "before": before},
    )
    click.echo(f"Installed the {installed.tier} licence of {installed.licensee}.")
    _show(rt)


@licence.command("status")
def status() -> None:
    """Show the tier in force, seats and users."""
    _show(_runtime())


@licence.command("end-demo")
def end_demo() -> None:
    """Leave demo mode now (the free tier applies until a licence is installed)."""
    rt = _runtime()
    rt.licence.end_demo()
    rt.audit.log("licence.end_demo", login="cli")
    _show(rt)


def _show(rt: Runtime) -> None:
    with db.read(rt.engine) as conn:
        st = rt.licence.state(conn)
        used = len(holders(conn, systables.utcnow()))
        users = rt.users.count_active(conn)
    tier = st.tier
    click.echo(f"Licence: {st.describe()}")
    click.echo(f"Tier: {tier.name}")
    if st.key is not None:
        click.echo(f"Licensee: {st.key.licensee} (key {st.key.id}, issued {st.key.issued_at})")
    click.echo(f"Seats: {used} of {tier.seats if tier.seats is not None else 'unlimited'} in use")
    click.echo(f"Users: {users} of {tier.users if tier.users is not None else 'unlimited'}")
    click.echo(f"Structure editing: {'yes' if tier.structure_editing else 'no'}")
    if st.key is None and not st.demo_ended:
        click.echo(f"Demo launches left: {st.demo_launches_left}")
