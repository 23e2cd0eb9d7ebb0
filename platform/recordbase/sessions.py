"""Seats: every live session holds one, counted in the database under the licence lock.

A session (a browser sign-in, an API token, a personal token in use) holds a seat
while it has not ended and was seen within the idle limit. Opening one counts the
seats and inserts in one write transaction that first takes the licence row lock
(SELECT … FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite), so two server
processes can never both hand out the last seat.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from recordbase import systables
from recordbase.errors import LicenceRestriction
from recordbase.licence import LicenceService
from recordbase.messages import joined, msg
from recordbase.settings import get_setting

#: the longest a sign-in session may idle before it ends and frees its seat; the
#: ``session_idle_minutes`` setting may shorten it (see ``idle_limit``)
SESSION_IDLE = dt.timedelta(hours=12)
#: a sign-in session ends this long after the sign-in, however busy (ASVS 3.3.2)
SESSION_MAX_AGE = dt.timedelta(hours=12)
LAST_SEEN_RESOLUTION = dt.timedelta(seconds=60)
#: personal API tokens do not expire; they hold a seat only while in use
PERSONAL = "personal"


@dataclass(frozen=True)
class Holder:
    session_id: int
    login: str
    kind: str
    address: str | None
    created_at: dt.datetime
    last_seen: dt.datetime

    def idle(self, now: dt.datetime) -> dt.timedelta:
        return now - self.last_seen

    def describe(self, now: dt.datetime) -> str:
        idle_min = int(self.idle(now).total_seconds() // 60)
        since = f"{self.created_at:%Y-%m-%d %H:%M}"
        if self.address:
            return msg(
                "{login} ({kind} from {address}, since {since} UTC, idle {idle} min)",
                login=self.login, kind=self.kind, address=self.address, since=since, idle=idle_min,
            )
        return msg(
            "{login} ({kind}, since {since} UTC, idle {idle} min)",
            login=self.login, kind=self.kind, since=since, idle=idle_min,
        )

    def to_json(self, now: dt.datetime) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "login": self.login,
            "kind": self.kind,
            "address": self.address,
            "since": self.created_at.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "idle_seconds": int(self.idle(now).total_seconds()),
        }


IDLE_SETTING = "session_idle_minutes"


def idle_limit(conn: sa.Connection) -> dt.timedelta:
    """How long a session may idle now (the ``session_idle_minutes`` setting)."""
    return idle_limit_of(get_setting(conn, IDLE_SETTING))


def idle_limit_of(minutes: int | None) -> dt.timedelta:
    return min(SESSION_IDLE, dt.timedelta(minutes=minutes)) if minutes else SESSION_IDLE


def seat_condition(
    now: dt.datetime, idle: dt.timedelta = SESSION_IDLE
) -> sa.ColumnElement[bool]:
    s = systables.sessions
    return sa.and_(s.c.ended_at.is_(None), s.c.last_seen > now - idle)


def holders(conn: sa.Connection, now: dt.datetime) -> list[Holder]:
    s, u = systables.sessions, systables.users
    rows = conn.execute(
        sa.select(s.c.id, u.c.login, s.c.kind, s.c.address, s.c.created_at, s.c.last_seen)
        .select_from(s.join(u, u.c.id == s.c.user_id))
        .where(seat_condition(now, idle_limit(conn)))
        .order_by(s.c.last_seen)
    ).all()
    return [Holder(r[0], r[1], r[2], r[3] or None, r[4], r[5]) for r in rows]


def expire_idle(conn: sa.Connection, now: dt.datetime) -> None:
    """End the sign-in sessions idle or old past their limits (personal tokens stay)."""
    s = systables.sessions
    idle = idle_limit(conn)
    conn.execute(
        sa.update(s)
        .where(
            s.c.ended_at.is_(None),
            s.c.kind != PERSONAL,
            sa.or_(s.c.last_seen <= now - idle, s.c.created_at <= now - SESSION_MAX_AGE),
        )
        .values(ended_at=now, ended_reason="expired")
    )


def claim_seat(
    conn: sa.Connection, licence: LicenceService, *, take_over: bool, exclude: int | None = None
) -> int | None:
    """Make sure a seat is free for one more session, in the caller's write transaction.

    Returns the id of a session taken over, if any. Raises LicenceRestriction naming
    the tier, its limit and who holds the seats when none is free.
    """
    state = licence.lock(conn)
    now = systables.utcnow()
    expire_idle(conn, now)
    limit = state.tier.seats
    if limit is None:
        return None
    taken = [h for h in holders(conn, now) if h.session_id != exclude]
    if len(taken) < limit:
        return None
    minutes = get_setting(conn, "seat_takeover_minutes") or 30
    idle_enough = [h for h in taken if h.idle(now) >= dt.timedelta(minutes=minutes)]
    if take_over and idle_enough:
        victim = idle_enough[0]  # the longest idle: holders are ordered by last_seen
        s = systables.sessions
        conn.execute(
            sa.update(s)
            .where(s.c.id == victim.session_id)
            .values(ended_at=now, ended_reason="taken_over")
        )
        return victim.session_id
    offer = (
        msg(
            "A seat idle for more than {minutes} minutes can be taken over: sign in again "
            "with take_over.",
            minutes=minutes,
        )
        if idle_enough
        else msg(
            "None has been idle for {minutes} minutes yet, so none can be taken over.",
            minutes=minutes,
        )
    )
    seats = msg("1 seat") if limit == 1 else msg("{count} seats", count=limit)
    raise LicenceRestriction(
        msg(
            "All {seats} of the {tier} tier are in use, by {holders}. Sign out elsewhere or ask "
            "an administrator to end a session. {offer}",
            seats=seats, tier=state.tier.name,
            holders=joined((h.describe(now) for h in taken), "; "), offer=offer,
        ),
        extra={
            "tier": state.tier.name,
            "seats": limit,
            "holders": [h.to_json(now) for h in taken],
            "take_over_after_minutes": minutes,
            "can_take_over": bool(idle_enough),
        },
    )
