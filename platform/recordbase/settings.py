"""Instance settings kept in ``rb_settings`` (one JSON value per name), with defaults."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from recordbase import db, systables
from recordbase.errors import ValidationError
from recordbase.messages import msg

#: name → (default, smallest, largest); every setting is a whole number or null
SETTINGS: dict[str, tuple[int | None, int, int]] = {
    # days the audit log keeps its entries; null keeps them for ever
    "audit_retention_days": (730, 1, 36500),
    # a seat idle this long may be taken over by the next sign-in
    "seat_takeover_minutes": (30, 1, 24 * 60),
    # a sign-in session ends (and frees its seat) after this long without a request;
    # 30 is ASVS level 2's idle limit, 720 (12 hours) the longest
    "session_idle_minutes": (720, 5, 12 * 60),
}


def get_setting(conn: sa.Connection, name: str) -> int | None:
    t = systables.settings
    row = conn.execute(sa.select(t.c.value).where(t.c.name == name)).first()
    return setting_value(name, row is not None, row[0] if row else None)


def setting_value(name: str, stored: bool, value: Any) -> int | None:
    """A setting's value from its row (``stored`` False: no row, the default applies)."""
    if not stored:
        return SETTINGS[name][0]
    return value if isinstance(value, int) else None


def all_settings(engine: sa.Engine) -> dict[str, int | None]:
    with db.read(engine) as conn:
        return {name: get_setting(conn, name) for name in SETTINGS}


def put_settings(engine: sa.Engine, values: Any) -> dict[str, int | None]:
    if not isinstance(values, dict):
        raise ValidationError(msg("Send the settings as a JSON object."))
    errors: dict[str, str] = {}
    for name, value in values.items():
        if name not in SETTINGS:
            errors[name] = msg("Unknown setting.")
            continue
        _default, low, high = SETTINGS[name]
        if value is None and name == "audit_retention_days":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = msg("A whole number from {low} to {high}.", low=low, high=high)
    if errors:
        raise ValidationError("The settings were not saved: " + ", ".join(sorted(errors)) + ".",
                              fields=errors)
    t = systables.settings
    with db.write(engine) as conn:
        for name, value in values.items():
            conn.execute(sa.delete(t).where(t.c.name == name))
            conn.execute(sa.insert(t).values(name=name, value=value))
    return all_settings(engine)
