"""Licence tiers, signed licence keys and demo launches.

A licence key is a canonical JSON payload ``{"id", "issued_at", "licensee", "tier"}``
signed with the vendor's Ed25519 private key; the text key is
``<base64url payload>.<base64url signature>``. It is verified offline against the
public key shipped in the package (``licence_key.pub``), or the one named by
``RECORDBASE_LICENSE_PUBLIC_KEY``. It is not tied to a machine and never expires.

The installed key lives in the singleton row of ``rb_licence`` and is verified again
whenever it is read, so editing the database cannot raise the tier. That row is also
the lock that serialises seat and user counting across server processes.

Until a licence is installed, the first ``DEMO_LAUNCHES`` launches run in demo mode
with no limits; after that the free tier applies.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from recordbase import db, systables
from recordbase.errors import LicenceRestriction, ValidationError
from recordbase.messages import msg

DEMO_LAUNCHES = 60
PUBLIC_KEY_ENV = "RECORDBASE_LICENSE_PUBLIC_KEY"
PACKAGED_PUBLIC_KEY = Path(__file__).with_name("licence_key.pub")
MAX_KEY_CHARS = 4096


@dataclass(frozen=True)
class Tier:
    name: str
    seats: int | None  # simultaneous sessions; None: no limit
    users: int | None  # active users in the directory; None: no limit
    structure_editing: bool


TIERS: dict[str, Tier] = {
    t.name: t
    for t in (
        Tier("free", 1, 1, False),
        Tier("simple", 3, 3, True),
        Tier("extended", 6, 6, True),
        Tier("professional", 9, 9, True),
        Tier("premium", 12, 12, True),
        Tier("unlimited", None, None, True),
    )
}
DEMO = Tier("demo", None, None, True)


@dataclass(frozen=True)
class LicenceKey:
    """The verified content of a licence key."""

    id: str
    licensee: str
    tier: str
    issued_at: str
    text: str


@dataclass(frozen=True)
class LicenceState:
    """What applies now: the tier in force and where it comes from."""

    tier: Tier
    key: LicenceKey | None
    launches: int
    demo_ended: bool

    @property
    def demo(self) -> bool:
        return self.tier is DEMO

    @property
    def demo_launches_left(self) -> int:
        if self.key is not None or self.demo_ended:
            return 0
        return max(0, DEMO_LAUNCHES - self.launches)

    @property
    def licensee(self) -> str | None:
        return self.key.licensee if self.key else None

    def describe(self) -> str:
        if self.demo:
            return msg("demo mode ({count} launches left)", count=self.demo_launches_left)
        if self.key is None:
            return msg("the free tier")
        return msg(
            "the {tier} licence of {licensee}", tier=self.tier.name, licensee=self.key.licensee
        )


# --- keys ---------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _B64_ALPHABET for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def canonical_payload(payload: dict[str, str]) -> bytes:
    """The exact bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def generate_key_pair(directory: Path) -> tuple[Path, Path]:
    """Write a new vendor key pair (PEM) into ``directory``; the private file is 0600."""
    directory.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    private_path = directory / "licence_private.pem"
    public_path = directory / "licence_key.pub"
    if private_path.exists() or public_path.exists():
        raise ValidationError(msg(
            "{directory} already holds a key pair; choose an empty folder.",
            directory=directory,
        ))
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


def issue_key(
    private_key_pem: bytes, *, tier: str, licensee: str, now: dt.datetime | None = None
) -> str:
    """Sign a licence key (the vendor's side)."""
    if tier not in TIERS or tier == "free":
        paid = ", ".join(t for t in TIERS if t != "free")
        raise ValidationError(
            msg("A licence tier is one of: {paid}.", paid=paid), fields={"tier": msg("Unknown.")}
        )
    licensee = licensee.strip()
    if not licensee or len(licensee) > 200:
        raise ValidationError(
            msg("The licensee is a name of 1 to 200 characters."),
            fields={"licensee": msg("Required.")}
        )
    try:
        private = serialization.load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValidationError(msg("The private key file is not an unencrypted PEM key.")) from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise ValidationError(msg("The private key is not an Ed25519 key."))
    payload = {
        "id": str(uuid.uuid4()),
        "issued_at": (now or systables.utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "licensee": licensee,
        "tier": tier,
    }
    body = canonical_payload(payload)
    return f"{_b64(body)}.{_b64(private.sign(body))}"


def load_public_key(path: Path | None = None) -> Ed25519PublicKey:
    path = path or Path(os.environ.get(PUBLIC_KEY_ENV) or PACKAGED_PUBLIC_KEY)
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ValidationError(msg(
            "The licence public key {path} cannot be read: {reason}",
            path=path, reason=str(exc),
        )) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValidationError(msg(
            "The licence public key {path} is not an Ed25519 key.",
            path=path,
        ))
    return key


def verify_key(text: str, public_key: Ed25519PublicKey) -> LicenceKey:
    """The content of a licence key, or ValidationError saying what is wrong with it."""
    text = "".join(text.split())
    if len(text) > MAX_KEY_CHARS:
        raise _bad_key(msg("it is far longer than a licence key"))
    body_text, dot, sig_text = text.partition(".")
    if not dot or "." in sig_text:
        raise _bad_key(msg("it is incomplete (a key is two parts joined by a dot)"))
    try:
        body, signature = _unb64(body_text), _unb64(sig_text)
    except (ValueError, binascii.Error) as exc:
        raise _bad_key(msg("it is damaged (not base64url text)")) from exc
    if len(signature) != 64:
        raise _bad_key(msg("it is truncated or damaged (the signature has the wrong length)"))
    try:
        public_key.verify(signature, body)
    except InvalidSignature as exc:
        raise _bad_key(
            msg(
                "its signature does not match: it was altered, or it was not issued by this "
                "product's vendor"
            )
        ) from exc
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad_key(msg("its content is not readable")) from exc
    fields = ("id", "issued_at", "licensee", "tier")
    if (
        not isinstance(payload, dict)
        or sorted(payload) != list(fields)
        or not all(isinstance(payload[f], str) for f in fields)
        or canonical_payload(payload) != body
    ):
        raise _bad_key(msg("its content is not in the licence format"))
    if payload["tier"] not in TIERS or payload["tier"] == "free":
        raise _bad_key(msg("it names an unknown tier '{tier}'", tier=payload["tier"]))
    return LicenceKey(
        id=payload["id"],
        licensee=payload["licensee"],
        tier=payload["tier"],
        issued_at=payload["issued_at"],
        text=text,
    )


def _bad_key(reason: str) -> ValidationError:
    return ValidationError(
        msg(
            "The licence key was rejected: {reason}. The licence in force did not change.",
            reason=reason,
        ),
        fields={"key": reason},
    )


# --- the licence in force -------------------------------------------------------------


class LicenceService:
    """Reads and changes the licence in force; counts launches; holds the seat lock."""

    def __init__(self, engine: sa.Engine, *, public_key_path: Path | None = None) -> None:
        self.engine = engine
        self.public_key_path = public_key_path
        self._verified: dict[str, LicenceKey] = {}

    def public_key(self) -> Ed25519PublicKey:
        return load_public_key(self.public_key_path)

    def state(self, conn: sa.Connection | None = None) -> LicenceState:
        if conn is None:
            with db.read(self.engine) as own:
                return self.state(own)
        return self.state_of(self._row(conn))

    def state_of(self, row: Mapping[str, Any] | sa.RowMapping | None) -> LicenceState:
        """The state from the licence row's ``key_text``, ``launches``, ``demo_ended``.

        For callers that read the row together with something else in one query.
        """
        key = self._verified_key(row["key_text"]) if row else None
        launches = int(row["launches"]) if row else 0
        demo_ended = bool(row["demo_ended"]) if row else False
        if key is not None:
            tier = TIERS[key.tier]
        elif not demo_ended and launches <= DEMO_LAUNCHES:
            tier = DEMO
        else:
            tier = TIERS["free"]
        return LicenceState(tier=tier, key=key, launches=launches, demo_ended=demo_ended)

    def _verified_key(self, text: str | None) -> LicenceKey | None:
        if not text:
            return None
        if text not in self._verified:
            try:
                self._verified[text] = verify_key(text, self.public_key())
            except ValidationError:
                # a stored key that no longer verifies (edited row, other vendor key): free
                return None
        return self._verified[text]

    def _row(self, conn: sa.Connection) -> sa.RowMapping | None:
        t = systables.licence
        return conn.execute(sa.select(t).where(t.c.id == 1)).mappings().first()

    def lock(self, conn: sa.Connection) -> LicenceState:
        """Take the licence row lock for the rest of ``conn``'s write transaction.

        Seat and user counting run after this: on PostgreSQL concurrent sign-ins on
        any server process queue on the row (SELECT … FOR UPDATE); on SQLite the
        write transaction (BEGIN IMMEDIATE) already serialises them.
        """
        ensure_licence_row(conn)
        t = systables.licence
        stmt = sa.select(t.c.id).where(t.c.id == 1)
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        conn.execute(stmt)
        return self.state(conn)

    def install(self, text: str) -> LicenceKey:
        key = verify_key(text, self.public_key())
        with db.write(self.engine) as conn:
            self.lock(conn)
            conn.execute(
                sa.update(systables.licence)
                .where(systables.licence.c.id == 1)
                .values(key_text=key.text, installed_at=systables.utcnow(), demo_ended=True)
            )
        return key

    def end_demo(self) -> None:
        with db.write(self.engine) as conn:
            self.lock(conn)
            conn.execute(
                sa.update(systables.licence)
                .where(systables.licence.c.id == 1)
                .values(demo_ended=True)
            )

    def count_launch(self) -> LicenceState:
        """One more launch (a server start or a CLI run); ignored before ``init``."""
        if not sa.inspect(self.engine).has_table(systables.licence.name):
            return self.state_or_default()
        with db.write(self.engine) as conn:
            ensure_licence_row(conn)
            conn.execute(
                sa.update(systables.licence)
                .where(systables.licence.c.id == 1)
                .values(launches=systables.licence.c.launches + 1)
            )
            return self.state(conn)

    def state_or_default(self) -> LicenceState:
        if not sa.inspect(self.engine).has_table(systables.licence.name):
            return LicenceState(tier=DEMO, key=None, launches=0, demo_ended=False)
        return self.state()

    def check_structure_editing(self, conn: sa.Connection) -> None:
        state = self.state(conn)
        if not state.tier.structure_editing:
            raise LicenceRestriction(
                msg(
                    "The structure cannot be changed under {state}: on the free tier fields "
                    "and entities cannot be created or changed. Install a licence (recordbase "
                    "license install KEY) to change the structure.",
                    state=state.describe(),
                ),
                extra={"tier": state.tier.name},
            )


def ensure_licence_row(conn: sa.Connection) -> None:
    t = systables.licence
    if conn.execute(sa.select(t.c.id).where(t.c.id == 1)).first() is None:
        stmt: Any
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt = pg_insert(t).values(id=1, launches=0, demo_ended=False)
            stmt = stmt.on_conflict_do_nothing(index_elements=["id"])
        else:
            stmt = sa.insert(t).values(id=1, launches=0, demo_ended=False).prefix_with("OR IGNORE")
        conn.execute(stmt)


def tier_json(state: LicenceState) -> dict[str, Any]:
    return {
        "tier": state.tier.name,
        "licensee": state.licensee,
        "seats": state.tier.seats,
        "users_max": state.tier.users,
        "structure_editing": state.tier.structure_editing,
        "demo_launches_left": state.demo_launches_left,
    }
