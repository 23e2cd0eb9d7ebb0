"""Users, password hashing and session tokens (API tokens, browser sessions, personal tokens).

Tokens are random 256-bit strings handed to the client once; only their SHA-256
is stored, so a copy of the database does not hold usable tokens. Passwords are
hashed with argon2id. Every live session holds a licence seat (see
``recordbase.sessions``); the licence also caps the number of active users, and
the users beyond the cap (after a downgrade) cannot sign in until a place exists.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import Parameters, PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from recordbase import db, systables, throttle
from recordbase.audit import AuditService
from recordbase.catalog import VERSION_COLUMN, remember_version
from recordbase.errors import (
    AuthenticationError,
    Conflict,
    LicenceRestriction,
    NotFound,
    ValidationError,
)
from recordbase.licence import LicenceService, LicenceState
from recordbase.messages import msg
from recordbase.names import check_label
from recordbase.sessions import (
    IDLE_SETTING,
    LAST_SEEN_RESOLUTION,
    PERSONAL,
    SESSION_IDLE,
    SESSION_MAX_AGE,
    claim_seat,
    idle_limit,
    idle_limit_of,
    seat_condition,
)
from recordbase.settings import setting_value

BUILTIN_ROLES = ("admin", "user")
ROLES = BUILTIN_ROLES  # kept for callers that list the built-in roles
SESSION_KINDS = ("api", "web", PERSONAL)
#: OWASP ASVS 4.0.3 V2.1: at least 12 characters (runs of spaces count as one), at
#: least 64 allowed and more than 128 refused, no composition rules, no common or
#: breached passwords (2.1.1, 2.1.2, 2.1.7, 2.1.9)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
#: a password zxcvbn can guess in fewer tries than this is refused as too common
MIN_GUESSES_LOG10 = 6
__all__ = [
    "LAST_SEEN_RESOLUTION", "SESSION_IDLE", "User", "UserService", "generate_password",
]

#: argon2id parameter sets. OWASP's Password Storage Cheat Sheet lists five argon2id
#: configurations of equal defence, trading memory for passes: 46 MiB x 1, 19 MiB x 2
#: (the one ASVS 4.0 V2.4.1 points to), 12 MiB x 3, 9 MiB x 4 and 7 MiB x 5, all with
#: one lane. Production uses the last. The memory is held while a hash runs, in the
#: worker thread that signs someone in; each worker runs 4 threads, so simultaneous
#: sign-ins add that much memory each. The server's budget is 200 MB, so this matters:
#: 7 MiB x 5 hashes in 20 ms here, against 30 ms for 19 MiB x 2. RFC 9106's low-memory
#: profile (64 MiB, 4 lanes) broke that budget with one sign-in.
#: Hashes made with other parameters still verify, and are rehashed at the next
#: sign-in. The cheapest set is only for test suites that create hundreds of users.
OWASP_ARGON2ID = Parameters(
    type=Type.ID, version=19, salt_len=16, hash_len=32,
    time_cost=5, memory_cost=7 * 1024, parallelism=1,
)
#: OWASP's 19 MiB x 2 configuration: Recordbase's production set until it took 7 MiB x 5
OWASP_ARGON2ID_19MIB = Parameters(
    type=Type.ID, version=19, salt_len=16, hash_len=32,
    time_cost=2, memory_cost=19 * 1024, parallelism=1,
)
HASH_PROFILES = {
    "owasp": OWASP_ARGON2ID,
    "owasp_19mib": OWASP_ARGON2ID_19MIB,
    "rfc9106_low_memory": profiles.RFC_9106_LOW_MEMORY,
    "cheapest": profiles.CHEAPEST,
}


@dataclass(frozen=True)
class User:
    """A signed-in user, as services see the caller (``actor``)."""

    id: int
    login: str
    name: str
    role: str
    session_id: int | None = None
    group: str | None = None
    address: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def at(self, address: str | None) -> User:
        """The same user, seen from ``address`` (recorded in the audit log)."""
        return dataclasses.replace(self, address=address)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_rules(
    password: str, *, login: str | None = None, name: str | None = None
) -> None:
    """Refuse a password that breaks the policy, with a sentence naming the problem."""
    length = len(re.sub(" {2,}", " ", password))
    if length < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            msg(
                "The password must be at least {min_password_length} characters long.",
                min_password_length=MIN_PASSWORD_LENGTH,
            ),
            fields={"password": msg("At least {count} characters.", count=MIN_PASSWORD_LENGTH)},
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(
            msg(
                "The password is longer than {max_password_length} characters.",
                max_password_length=MAX_PASSWORD_LENGTH,
            ),
            fields={"password": msg("At most {count} characters.", count=MAX_PASSWORD_LENGTH)},
        )
    if login and password.strip().lower() == login.strip().lower():
        raise ValidationError(
            msg("The password must not be the login."),
            fields={"password": msg("Same as the login.")}
        )
    if is_common_password(password, [v for v in (login, name) if v]):
        raise ValidationError(
            msg(
                "The password is too common or too easy to guess: it is on a list of passwords "
                "leaked in breaches, or a small variation of one, of the login or of a simple "
                "pattern. Choose another, for example a few unrelated words."
            ),
            fields={"password": msg("Too common.")},
        )


@functools.cache
def _breached() -> frozenset[str]:
    # zxcvbn ships the 30,000 most frequent passwords of public breaches; imported on
    # first use so that processes that never set a password do not load the lists
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common_password(password: str, user_inputs: list[str] | None = None) -> bool:
    """On the breached list, or guessable (zxcvbn) in fewer than 10^6 tries."""
    if password.lower() in _breached():
        return True
    from zxcvbn import zxcvbn

    estimate = zxcvbn(password, user_inputs=user_inputs or [], max_length=MAX_PASSWORD_LENGTH)
    return float(estimate["guesses_log10"]) < MIN_GUESSES_LOG10


def generate_password() -> str:
    """A one-time password an administrator hands on (random, 16 characters)."""
    while True:
        password = secrets.token_urlsafe(12)
        if not is_common_password(password):
            return password


def _user_of(row: Any, **extra: Any) -> User:
    return User(
        id=row["id"],
        login=row["login"],
        name=row["name"],
        role=row["role"],
        group=row["group_name"],
        **extra,
    )


def user_json(row: Any, licensed: bool) -> dict[str, Any]:
    return {
        "id": row["id"],
        "login": row["login"],
        "name": row["name"],
        "email": row["email"],
        "role": row["role"],
        "group": row["group_name"],
        "active": bool(row["active"]),
        # False: active, but beyond the licence's user count (after a downgrade)
        "licensed": licensed,
        "created_at": row["created_at"].isoformat(),
    }


class UserService:
    """The users directory, passwords, sign-in and sessions."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        hash_profile: str = "owasp",
        licence: LicenceService | None = None,
        audit: AuditService | None = None,
    ) -> None:
        self.engine = engine
        self.hasher = PasswordHasher.from_parameters(HASH_PROFILES[hash_profile])
        self.licence = licence or LicenceService(engine)
        self.audit = audit or AuditService(engine)
        self._dummy: str | None = None

    @property
    def _dummy_hash(self) -> str:
        """Verified against when the login is unknown, so both paths cost the same time.

        Made on first use: an argon2 hash takes 64 MiB, which a process that never
        checks a password (the server's master, a CLI run) should not pay for."""
        if self._dummy is None:
            self._dummy = self.hasher.hash("recordbase-dummy-password")
        return self._dummy

    # --- the directory -----------------------------------------------------------------

    def create(
        self,
        login: str,
        password: str,
        *,
        role: str = "user",
        name: str = "",
        email: str | None = None,
        group: str | None = None,
        actor: User | None = None,
    ) -> User:
        login = _check_login(login)
        check_password_rules(password, login=login, name=name)
        display = check_label(name, "user", "name") if name else login
        values = {"email": _email(email), "group_name": _group(group)}
        with db.write(self.engine) as conn:
            _check_role(conn, role)
            state = self.licence.lock(conn)
            users = systables.users
            _free_login(conn, login)
            self._check_user_count(conn, state, adding=1)
            user_id = conn.execute(
                sa.insert(users)
                .values(
                    login=login,
                    name=display,
                    role=role,
                    active=True,
                    password_hash=self.hasher.hash(password),
                    password_changed_at=systables.utcnow(),
                    **values,
                )
                .returning(users.c.id)
            ).scalar_one()
            self.audit.record(
                conn, "user.create", actor=actor, entity="users", record_id=user_id,
                details={"login": login, "role": role},
            )
        return User(id=user_id, login=login, name=display, role=role, group=values["group_name"])

    def _check_user_count(self, conn: sa.Connection, state: LicenceState, adding: int) -> None:
        limit = state.tier.users
        if limit is None:
            return
        users = systables.users
        active = conn.execute(
            sa.select(sa.func.count()).select_from(users).where(users.c.active.is_(True))
        ).scalar_one()
        if active + adding > limit:
            raise LicenceRestriction(
                msg(
                    "The {tier} tier allows {allowed} and 1 already is active; deactivate one "
                    "or install a larger licence.",
                    tier=state.tier.name, allowed=_users(limit),
                )
                if active == 1
                else msg(
                    "The {tier} tier allows {allowed} and {active} already are active; "
                    "deactivate one or install a larger licence.",
                    tier=state.tier.name, allowed=_users(limit), active=active,
                ),
                extra={"tier": state.tier.name, "users_max": limit, "users": active},
            )

    def count(self) -> int:
        with db.read(self.engine) as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(systables.users)).scalar_one()
            )

    def count_active(self, conn: sa.Connection) -> int:
        users = systables.users
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(users).where(users.c.active.is_(True))
            ).scalar_one()
        )

    def list_users(self) -> list[dict[str, Any]]:
        users = systables.users
        with db.read(self.engine) as conn:
            state = self.licence.state(conn)
            rows = conn.execute(sa.select(users).order_by(users.c.id)).mappings().all()
            allowed = self._licensed_ids(conn, state)
        return [user_json(r, allowed is None or r["id"] in allowed) for r in rows]

    def get(self, user_id: int) -> dict[str, Any]:
        for item in self.list_users():
            if item["id"] == user_id:
                return item
        raise NotFound(msg("There is no user with id {user_id}.", user_id=user_id))

    def _licensed_ids(self, conn: sa.Connection, state: LicenceState) -> set[int] | None:
        """The active users within the licence's user count (admins first, then oldest)."""
        if state.tier.users is None:
            return None
        rows = conn.execute(_LICENSED_IDS, {"seats": state.tier.users}).scalars()
        return set(rows)

    def update(self, user_id: int, data: Any, *, actor: User | None = None) -> dict[str, Any]:
        """Change login, name, e-mail, role, group or the active flag (an administrator's
        action)."""
        allowed = {"login", "name", "email", "role", "group", "active"}
        if not isinstance(data, dict) or set(data) - allowed:
            raise ValidationError(
                msg(
                    "A user change is a JSON object with some of: {names}.",
                    names=', '.join(sorted(allowed)),
                ),
                fields={k: "Cannot be changed here." for k in (set(data) - allowed)}
                if isinstance(data, dict)
                else {},
            )
        users = systables.users
        with db.write(self.engine) as conn:
            state = self.licence.lock(conn)
            row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
            if row is None:
                raise NotFound(msg("There is no user with id {user_id}.", user_id=user_id))
            values: dict[str, Any] = {}
            if "login" in data and _check_login(data["login"]) != row["login"]:
                values["login"] = _free_login(conn, data["login"])
            if "name" in data:
                values["name"] = check_label(str(data["name"] or ""), "user", "name")
            if "email" in data:
                values["email"] = _email(data["email"])
            if "group" in data:
                values["group_name"] = _group(data["group"])
            if "role" in data:
                _check_role(conn, data["role"])
                values["role"] = data["role"]
            if "active" in data:
                if not isinstance(data["active"], bool):
                    raise ValidationError(
                        msg("active is true or false."), fields={"active": msg("Boolean.")}
                    )
                values["active"] = data["active"]
                if data["active"] and not row["active"]:
                    self._check_user_count(conn, state, adding=1)
            self._keep_an_admin(conn, row, values)
            if values:
                conn.execute(sa.update(users).where(users.c.id == user_id).values(values))
            if values.get("active") is False or values.get("role", row["role"]) != row["role"]:
                self._end_all(conn, user_id, "account_changed")
            before = {k: row[k] for k in values}
            self.audit.record(
                conn, "user.update", actor=actor, entity="users", record_id=user_id,
                details={"changes": {k: [before[k], values[k]] for k in values}},
            )
        return self.get(user_id)

    def _keep_an_admin(self, conn: sa.Connection, row: Any, values: dict[str, Any]) -> None:
        demoted = row["role"] == "admin" and (
            values.get("role", "admin") != "admin" or values.get("active") is False
        )
        if not demoted:
            return
        users = systables.users
        others = conn.execute(
            sa.select(sa.func.count())
            .select_from(users)
            .where(users.c.role == "admin", users.c.active.is_(True), users.c.id != row["id"])
        ).scalar_one()
        if not others:
            raise Conflict(msg("This is the last active administrator; make another one first."))

    # --- passwords -----------------------------------------------------------------------

    def change_password(self, user: User, current: str, new: str) -> None:
        """The user's own change: the current password is required; other sessions end."""
        users = systables.users
        with db.read(self.engine) as conn:
            stored = conn.execute(
                sa.select(users.c.password_hash).where(users.c.id == user.id)
            ).scalar()
        if not self._verify(stored, current):
            self.audit.log("auth.password_change_failed", actor=user)
            raise AuthenticationError(
                msg("The current password is wrong; the password was not changed."),
                fields={"current_password": msg("Wrong password.")},
            )
        if secrets.compare_digest(current.encode(), new.encode()):
            raise ValidationError(
                msg("The new password is the same as the current one."),
                fields={"new_password": msg("Same as the current password.")},
            )
        self._set_password(user.id, new, actor=user, keep_session=user.session_id)

    def reset_password(self, user_id: int, new: str, *, actor: User | None = None) -> None:
        """An administrator sets a new password; every session of that user ends."""
        self._set_password(user_id, new, actor=actor, keep_session=None)

    def _set_password(
        self, user_id: int, new: str, *, actor: User | None, keep_session: int | None
    ) -> None:
        users = systables.users
        with db.write(self.engine) as conn:
            found = conn.execute(
                sa.select(users.c.login, users.c.name).where(users.c.id == user_id)
            ).first()
            if found is None:
                raise NotFound(msg("There is no user with id {user_id}.", user_id=user_id))
            check_password_rules(new, login=found.login, name=found.name)
            conn.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(password_hash=self.hasher.hash(new), password_changed_at=systables.utcnow())
            )
            self._end_all(conn, user_id, "password_changed", keep=keep_session)
            own = actor is not None and actor.id == user_id
            action = "auth.password_change" if own else "user.password_reset"
            self.audit.record(conn, action, actor=actor, entity="users", record_id=user_id)

    def _rehash(self, user_id: int, stored: str, password: str) -> None:
        """Store the password again under the current parameters (same password)."""
        users = systables.users
        with db.write(self.engine) as conn:
            # only if nobody changed the password in between
            conn.execute(
                sa.update(users)
                .where(users.c.id == user_id, users.c.password_hash == stored)
                .values(password_hash=self.hasher.hash(password))
            )

    def _verify(self, stored: str | None, password: str) -> bool:
        try:
            self.hasher.verify(stored or self._dummy_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return stored is not None

    # --- signing in ----------------------------------------------------------------------

    def authenticate(self, login: str, password: str, *, address: str | None = None) -> User:
        """The user with these credentials; throttled per account and per address."""
        throttle.check(self.engine, login, address)
        users = systables.users
        with db.read(self.engine) as conn:
            row = conn.execute(sa.select(users).where(users.c.login == login)).mappings().first()
        stored = row["password_hash"] if row and row["active"] else None
        ok = self._verify(stored, password)
        with db.write(self.engine) as conn:
            throttle.note(conn, login, address, success=ok)
            if not ok or row is None:
                self.audit.record(
                    conn, "auth.sign_in_failed", login=login[:150], address=address,
                    details={"reason": "wrong login or password"},
                )
        if not ok or row is None:
            raise AuthenticationError(msg("The login or the password is wrong."))
        if self.hasher.check_needs_rehash(row["password_hash"]):
            self._rehash(row["id"], row["password_hash"], password)
        user = _user_of(row, address=address)
        try:
            with db.read(self.engine) as conn:
                self._check_licensed(conn, user.id)
        except LicenceRestriction as exc:
            self.audit.log(
                "auth.sign_in_refused", actor=user, details={"reason": exc.message[:1000]}
            )
            raise
        return user

    def _check_licensed(
        self, conn: sa.Connection, user_id: int, state: LicenceState | None = None
    ) -> None:
        state = state or self.licence.state(conn)
        allowed = self._licensed_ids(conn, state)
        if allowed is not None and user_id not in allowed:
            raise LicenceRestriction(
                msg(
                    "This account is inactive: the {tier} tier allows {allowed} and it is beyond "
                    "them. It becomes usable again when a place exists (a larger licence or "
                    "another user deactivated).",
                    tier=state.tier.name, allowed=_users(state.tier.users),
                ),
                extra={"tier": state.tier.name, "users_max": state.tier.users},
            )

    def open_session(
        self,
        user: User,
        *,
        kind: str,
        address: str | None,
        take_over: bool = False,
        name: str | None = None,
    ) -> str:
        """A new session token for ``user``; takes a licence seat or refuses.

        ``take_over`` lets the sign-in end the longest-idle session idle past the
        ``seat_takeover_minutes`` setting when every seat is taken.
        """
        if kind not in SESSION_KINDS:
            raise ValueError(f"unknown session kind {kind!r}")
        try:
            return self._open_session(user, kind, address, take_over, name)
        except LicenceRestriction as exc:
            self.audit.log(
                "auth.sign_in_refused", actor=user.at(address or user.address),
                details={"kind": kind, "reason": exc.message[:1000]},
            )
            raise

    def _open_session(
        self, user: User, kind: str, address: str | None, take_over: bool, name: str | None
    ) -> str:
        token = secrets.token_urlsafe(32)
        now = systables.utcnow()
        with db.write(self.engine) as conn:
            taken = None
            if kind == PERSONAL:
                # holds no seat until its first use
                last_seen = now - SESSION_IDLE - dt.timedelta(seconds=1)
            else:
                last_seen = now
                taken = claim_seat(conn, self.licence, take_over=take_over)
            session_id = conn.execute(
                sa.insert(systables.sessions)
                .values(
                    token_hash=hash_token(token),
                    user_id=user.id,
                    kind=kind,
                    address=(address or "")[:64],
                    created_at=now,
                    last_seen=last_seen,
                    name=name,
                )
                .returning(systables.sessions.c.id)
            ).scalar_one()
            details: dict[str, Any] = {"kind": kind, "session_id": session_id}
            if taken is not None:
                details["took_over_session"] = taken
            action = "auth.personal_token" if kind == PERSONAL else "auth.sign_in"
            self.audit.record(conn, action, actor=user.at(address or user.address), details=details)
        return token

    def resolve(self, token: str) -> User:
        """The user of a live session token; refreshes last-seen at most once a minute."""
        sessions = systables.sessions
        digest = hash_token(token)
        now = systables.utcnow()
        with db.read_ahead(self.engine) as conn:
            # one round trip: the session, its user, the licence row and the idle setting
            # (and, for a record write on PostgreSQL, its BEGIN and version lock);
            # system tables only, so prepared (planned once per connection)
            with db.prepared_statements(conn):
                row = conn.execute(_resolve_query(), {"digest": digest}).mappings().first()
            if row is None or not hmac.compare_digest(row["token_hash"], digest):
                raise AuthenticationError(msg("The token is not valid; sign in again."))
            remember_version(conn, row["rb_meta_version"])
            if row["ended_at"] is not None or not row["active"]:
                raise AuthenticationError(msg("This session has ended; sign in again."))
            licence_row = (
                {name: row[f"licence_{name}"] for name in ("key_text", "launches", "demo_ended")}
                if row["licence_id"] is not None else None
            )
            self._check_licensed(conn, row["id"], self.licence.state_of(licence_row))
            idle_allowed = idle_limit_of(
                setting_value(IDLE_SETTING, row["idle_name"] is not None, row["idle_value"])
            )
        session_id = row["session_id"]
        idle = now - row["last_seen"]
        if row["kind"] != PERSONAL:
            if idle > idle_allowed:
                self.end_session(session_id, reason="expired")
                raise AuthenticationError(
                    msg("This session expired after a long idle time; sign in again.")
                )
            if now - row["session_created_at"] > SESSION_MAX_AGE:
                self.end_session(session_id, reason="expired")
                raise AuthenticationError(msg("This session is too old; sign in again."))
        if row["kind"] == PERSONAL and idle > idle_allowed:
            with db.write(self.engine) as conn:
                claim_seat(conn, self.licence, take_over=False, exclude=session_id)
                conn.execute(
                    sa.update(sessions).where(sessions.c.id == session_id).values(last_seen=now)
                )
        elif idle > LAST_SEEN_RESOLUTION:
            with db.write(self.engine) as conn:
                conn.execute(
                    sa.update(sessions).where(sessions.c.id == session_id).values(last_seen=now)
                )
        return _user_of(row, session_id=session_id)

    def end_session(
        self, session_id: int, *, actor: User | None = None, reason: str = "signed_out"
    ) -> bool:
        """End a session (its token is dead everywhere at once); False if it had ended."""
        sessions = systables.sessions
        with db.write(self.engine) as conn:
            done = conn.execute(
                sa.update(sessions)
                .where(sessions.c.id == session_id, sessions.c.ended_at.is_(None))
                .values(ended_at=systables.utcnow(), ended_reason=reason)
            )
            if done.rowcount and reason != "expired":
                action = "auth.sign_out" if reason == "signed_out" else "session.end"
                self.audit.record(
                    conn, action, actor=actor, details={"session_id": session_id, "reason": reason}
                )
        return bool(done.rowcount)

    def _end_all(
        self, conn: sa.Connection, user_id: int, reason: str, keep: int | None = None
    ) -> None:
        sessions = systables.sessions
        cond = [sessions.c.user_id == user_id, sessions.c.ended_at.is_(None)]
        if keep is not None:
            cond.append(sessions.c.id != keep)
        conn.execute(
            sa.update(sessions)
            .where(*cond)
            .values(ended_at=systables.utcnow(), ended_reason=reason)
        )

    # --- sessions and personal tokens ----------------------------------------------------

    def live_sessions(self, *, user_id: int | None = None) -> list[dict[str, Any]]:
        """Sessions that have not ended: who, what kind, from where, since when."""
        s, u = systables.sessions, systables.users
        now = systables.utcnow()
        with db.read(self.engine) as conn:
            idle = idle_limit(conn)
            stmt = (
                sa.select(
                    s,
                    u.c.login,
                    u.c.name.label("user_name"),
                    seat_condition(now, idle).label("seat"),
                )
                .select_from(s.join(u, u.c.id == s.c.user_id))
                .where(
                    s.c.ended_at.is_(None),
                    sa.or_(s.c.kind == PERSONAL, s.c.last_seen > now - idle),
                )
                .order_by(s.c.created_at)
            )
            if user_id is not None:
                stmt = stmt.where(s.c.user_id == user_id)
            rows = conn.execute(stmt).mappings().all()
        return [
            {
                "id": r["id"],
                "user_id": r["user_id"],
                "login": r["login"],
                "user_name": r["user_name"],
                "kind": r["kind"],
                "name": r["name"],
                "address": r["address"] or None,
                "since": r["created_at"].isoformat(),
                "last_seen": r["last_seen"].isoformat(),
                "holds_seat": bool(r["seat"]),
            }
            for r in rows
        ]

    def create_personal_token(self, user: User, name: str) -> tuple[int, str]:
        name = check_label(name, "token", "name")
        token = self.open_session(user, kind=PERSONAL, address=user.address, name=name)
        sessions = systables.sessions
        with db.read(self.engine) as conn:
            token_id = conn.execute(
                sa.select(sessions.c.id).where(sessions.c.token_hash == hash_token(token))
            ).scalar_one()
        return int(token_id), token

    def personal_tokens(self, user: User) -> list[dict[str, Any]]:
        return [t for t in self.live_sessions(user_id=user.id) if t["kind"] == PERSONAL]

    def revoke_personal_token(self, user: User, token_id: int) -> None:
        sessions = systables.sessions
        with db.read(self.engine) as conn:
            owner = conn.execute(
                sa.select(sessions.c.user_id).where(
                    sessions.c.id == token_id, sessions.c.kind == PERSONAL
                )
            ).scalar()
        if owner is None or (owner != user.id and not user.is_admin):
            raise NotFound(msg("You have no personal token with id {token_id}.", token_id=token_id))
        self.end_session(token_id, actor=user, reason="revoked")

    def session_owner(self, session_id: int) -> int:
        sessions = systables.sessions
        with db.read(self.engine) as conn:
            owner = conn.execute(
                sa.select(sessions.c.user_id).where(sessions.c.id == session_id)
            ).scalar()
        if owner is None:
            raise NotFound(msg("There is no session with id {session_id}.", session_id=session_id))
        return int(owner)


def _check_role(conn: sa.Connection, role: Any) -> None:
    roles = systables.roles
    if not isinstance(role, str) or (
        role not in BUILTIN_ROLES
        and conn.execute(sa.select(roles.c.id).where(roles.c.name == role)).first() is None
    ):
        names = sorted(
            set(BUILTIN_ROLES) | set(conn.execute(sa.select(roles.c.name)).scalars())
        )
        raise ValidationError(
            msg("The role must be one of: {names}.", names=', '.join(names)),
            fields={"role": msg("Unknown role.")}
        )


def _check_login(value: Any) -> str:
    login = value.strip() if isinstance(value, str) else ""
    if not login or len(login) > 150 or any(ch.isspace() for ch in login):
        raise ValidationError(
            msg("The login must be 1 to 150 characters without spaces."),
            fields={"login": msg("1 to 150 characters, no spaces.")},
        )
    return login


def _free_login(conn: sa.Connection, value: Any) -> str:
    """``value`` checked as a login and not taken by another user."""
    login = _check_login(value)
    users = systables.users
    if conn.execute(sa.select(users.c.id).where(users.c.login == login)).first():
        raise Conflict(
            msg("A user with the login '{login}' already exists.", login=login),
            fields={"login": msg("Already taken.")},
        )
    return login


def _users(count: int | None) -> str:
    if count == 1:
        return msg("1 active user")
    return msg("{count} active users", count=count)


def _email(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 320 or "@" not in value.strip(" @"):
        raise ValidationError(
            msg("The e-mail address is not valid."), fields={"email": msg("Not valid.")}
        )
    return value.strip()


def _group(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) > 100:
        raise ValidationError(
            msg("The group is a name of up to 100 characters."), fields={"group": msg("Too long.")}
        )
    return value.strip() or None


# built once: with a user limit, every request checks that its user is within it
_LICENSED_IDS = (
    sa.select(systables.users.c.id)
    .where(systables.users.c.active.is_(True))
    .order_by(sa.case((systables.users.c.role == "admin", 0), else_=1), systables.users.c.id)
    .limit(sa.bindparam("seats", type_=sa.Integer()))
)


@functools.cache
def _resolve_query() -> sa.Select[Any]:
    """Built once: every authenticated request runs it (the digest is a bound parameter)."""
    sessions, users = systables.sessions, systables.users
    licence, settings = systables.licence, systables.settings
    return (
        sa.select(
            sessions.c.id.label("session_id"),
            sessions.c.token_hash,
            sessions.c.kind,
            sessions.c.created_at.label("session_created_at"),
            sessions.c.last_seen,
            sessions.c.ended_at,
            # what the check and the User need, not the password hash and the rest
            users.c.id,
            users.c.login,
            users.c.name,
            users.c.role,
            users.c.group_name,
            users.c.active,
            licence.c.id.label("licence_id"),
            licence.c.key_text.label("licence_key_text"),
            licence.c.launches.label("licence_launches"),
            licence.c.demo_ended.label("licence_demo_ended"),
            settings.c.name.label("idle_name"),
            settings.c.value.label("idle_value"),
            VERSION_COLUMN,  # the catalog check that follows needs no query of its own
        )
        .select_from(
            sessions.join(users, users.c.id == sessions.c.user_id)
            .outerjoin(licence, licence.c.id == 1)
            .outerjoin(settings, settings.c.name == IDLE_SETTING)
        )
        .where(sessions.c.token_hash == sa.bindparam("digest"))
    )
