"""The one place that decides whether the structure may be changed at all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa

if TYPE_CHECKING:
    from recordbase.licence import LicenceService


class StructurePolicy(Protocol):
    def check_structure_change(self, conn: sa.Connection) -> None:
        """Raise LicenceRestriction when structural changes are not allowed now."""


class AllowStructureChanges:
    """Every structural change is allowed (tests and tools that bypass the licence)."""

    def check_structure_change(self, conn: sa.Connection) -> None:
        return None


class LicencePolicy:
    """The licence in force decides: the free tier refuses every structural change.

    SchemaService asks inside each structural transaction (a single operation, an
    undo, or a whole config apply), so the API, the CLI, the UI and config apply all
    meet the same refusal.
    """

    def __init__(self, licence: LicenceService) -> None:
        self.licence = licence

    def check_structure_change(self, conn: sa.Connection) -> None:
        self.licence.check_structure_editing(conn)
