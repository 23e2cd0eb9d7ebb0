"""Users, password hashing and session tokens (API tokens and browser sessions).

Tokens are random 256-bit strings handed to the client once; only their SHA-256
is stored, so a copy of the database does not hold usable tokens. Passwords are
hashed with argon2id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from recordbase import db, systables
from recordbase.errors import AuthenticationError, Conflict, ValidationError
from recordbase.names import check_label

ROLES = ("admin", "user")
MIN_PASSWORD_LENGTH = 10
SESSION_IDLE = dt.timedelta(hours=12)
LAST_SEEN_RESOLUTION = dt.timedelta(seconds=60)

#: argon2id parameter sets: RFC 9106's low-memory profile in production; the
#: cheapest one only where a test suite creates hundreds of users
HASH_PROFILES = {"rfc9106_low_memory": profiles.RFC_9106_LOW_MEMORY, "cheapest": profiles.CHEAPEST}


@dataclass(frozen=True)
class User:
    id: int
    login: str
    name: str
    role: str
    session_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.",
            fields={"password": f"At least {MIN_PASSWORD_LENGTH} characters."},
        )
    if len(password) > 1024:
        raise ValidationError(
            "The password is longer than 1024 characters.",
            fields={"password": "At most 1024 characters."},
        )


class UserService:
    def __init__(self, engine: sa.Engine, *, hash_profile: str = "rfc9106_low_memory") -> None:
        self.engine = engine
        self.hasher = PasswordHasher.from_parameters(HASH_PROFILES[hash_profile])
        # verified against when the login is unknown, so both paths cost the same time
        self._dummy_hash = self.hasher.hash("recordbase-dummy-password")

    def create(self, login: str, password: str, *, role: str = "user", name: str = "") -> User:
        login = login.strip()
        if not login or len(login) > 150 or any(ch.isspace() for ch in login):
            raise ValidationError(
                "The login must be 1 to 150 characters without spaces.",
                fields={"login": "1 to 150 characters, no spaces."},
            )
        if role not in ROLES:
            raise ValidationError(
                f"The role must be one of: {', '.join(ROLES)}.", fields={"role": "Unknown role."}
            )
        check_password_rules(password)
        display = check_label(name, "user", "name") if name else login
        with db.write(self.engine) as conn:
            exists = conn.execute(
                sa.select(systables.users.c.id).where(systables.users.c.login == login)
            ).first()
            if exists:
                raise Conflict(
                    f"A user with the login {login!r} already exists.",
                    fields={"login": "Already taken."},
                )
            user_id = conn.execute(
                sa.insert(systables.users)
                .values(
                    login=login,
                    name=display,
                    role=role,
                    active=True,
                    password_hash=self.hasher.hash(password),
                )
                .returning(systables.users.c.id)
            ).scalar_one()
        return User(id=user_id, login=login, name=display, role=role)

    def count(self) -> int:
        with db.read(self.engine) as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(systables.users)).scalar_one()
            )

    def authenticate(self, login: str, password: str) -> User:
        users = systables.users
        with db.read(self.engine) as conn:
            row = conn.execute(sa.select(users).where(users.c.login == login)).mappings().first()
        stored = row["password_hash"] if row and row["active"] else None
        try:
            self.hasher.verify(stored or self._dummy_hash, password)
            ok = stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok or row is None:
            raise AuthenticationError("The login or the password is wrong.")
        return User(id=row["id"], login=row["login"], name=row["name"], role=row["role"])

    def open_session(self, user: User, *, kind: str, address: str | None) -> str:
        token = secrets.token_urlsafe(32)
        with db.write(self.engine) as conn:
            conn.execute(
                sa.insert(systables.sessions).values(
                    token_hash=hash_token(token),
                    user_id=user.id,
                    kind=kind,
                    address=(address or "")[:64],
                )
            )
        return token

    def resolve(self, token: str) -> User:
        """The user of a live session token; refreshes last-seen at most once a minute."""
        sessions, users = systables.sessions, systables.users
        digest = hash_token(token)
        now = systables.utcnow()
        with db.read(self.engine) as conn:
            row = (
                conn.execute(
                    sa.select(
                        sessions.c.id,
                        sessions.c.token_hash,
                        sessions.c.last_seen,
                        sessions.c.ended_at,
                        users.c.id.label("user_id"),
                        users.c.login,
                        users.c.name,
                        users.c.role,
                        users.c.active,
                    )
                    .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
                    .where(sessions.c.token_hash == digest)
                )
                .mappings()
                .first()
            )
        if row is None or not hmac.compare_digest(row["token_hash"], digest):
            raise AuthenticationError("The token is not valid; sign in again.")
        if row["ended_at"] is not None or not row["active"]:
            raise AuthenticationError("This session has ended; sign in again.")
        if now - row["last_seen"] > SESSION_IDLE:
            self.end_session(row["id"])
            raise AuthenticationError("This session expired after a long idle time; sign in again.")
        if now - row["last_seen"] > LAST_SEEN_RESOLUTION:
            with db.write(self.engine) as conn:
                conn.execute(
                    sa.update(sessions).where(sessions.c.id == row["id"]).values(last_seen=now)
                )
        return User(
            id=row["user_id"],
            login=row["login"],
            name=row["name"],
            role=row["role"],
            session_id=row["id"],
        )

    def end_session(self, session_id: int) -> None:
        sessions = systables.sessions
        with db.write(self.engine) as conn:
            conn.execute(
                sa.update(sessions)
                .where(sessions.c.id == session_id, sessions.c.ended_at.is_(None))
                .values(ended_at=systables.utcnow())
            )
