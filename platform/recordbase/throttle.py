"""Sign-in throttling per account and per address, counted in the database.

Failures are rows of ``rb_sign_in_attempts``, so every server process counts the
same. An account is refused for a while after ``ACCOUNT_FAILURES`` failures within
``WINDOW`` (counted per login text, whether or not the account exists, so the
answer reveals nothing), and an address after ``ADDRESS_FAILURES``. A successful
sign-in clears the account's count.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from recordbase import db, systables
from recordbase.errors import TooManyAttempts
from recordbase.messages import msg

WINDOW = dt.timedelta(minutes=15)
ACCOUNT_FAILURES = 5
ADDRESS_FAILURES = 20
KEEP = dt.timedelta(days=1)


def check(engine: sa.Engine, login: str, address: str | None) -> None:
    """Raise TooManyAttempts when this login or address must wait."""
    now = systables.utcnow()
    t = systables.sign_in_attempts
    with db.read(engine) as conn:
        last_ok = conn.execute(
            sa.select(sa.func.max(t.c.at)).where(t.c.login == login, t.c.success.is_(True))
        ).scalar()
        since = max(now - WINDOW, last_ok) if last_ok else now - WINDOW
        account = conn.execute(
            sa.select(t.c.at)
            .where(t.c.login == login, t.c.success.is_(False), t.c.at > since)
            .order_by(t.c.at.desc())
            .limit(ACCOUNT_FAILURES)
        ).scalars().all()
        by_address: list[dt.datetime] = []
        if address:
            by_address = list(
                conn.execute(
                    sa.select(t.c.at)
                    .where(t.c.address == address, t.c.success.is_(False), t.c.at > now - WINDOW)
                    .order_by(t.c.at.desc())
                    .limit(ADDRESS_FAILURES)
                ).scalars()
            )
    if len(account) >= ACCOUNT_FAILURES:
        raise _refusal(msg("this account"), account[-1] + WINDOW - now)
    if len(by_address) >= ADDRESS_FAILURES:
        raise _refusal(msg("your address"), by_address[-1] + WINDOW - now)


def _refusal(who: str, wait: dt.timedelta) -> TooManyAttempts:
    seconds = max(1, int(wait.total_seconds()) + 1)
    minutes = (seconds + 59) // 60
    return TooManyAttempts(
        msg("Too many failed sign-ins from {who}; try again in 1 minute.", who=who)
        if minutes == 1
        else msg(
            "Too many failed sign-ins from {who}; try again in {minutes} minutes.",
            who=who, minutes=minutes,
        ),
        extra={"retry_after": seconds},
    )


def note(conn: sa.Connection, login: str, address: str | None, *, success: bool) -> None:
    t = systables.sign_in_attempts
    now = systables.utcnow()
    conn.execute(
        sa.insert(t).values(at=now, login=login[:150], address=(address or None), success=success)
    )
    if success:
        conn.execute(sa.delete(t).where(t.c.at < now - KEEP))
