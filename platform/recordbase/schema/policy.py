"""The one place that decides whether the structure may be changed at all."""

from __future__ import annotations

from typing import Protocol

import sqlalchemy as sa


class StructurePolicy(Protocol):
    def check_structure_change(self, conn: sa.Connection) -> None:
        """Raise LicenceRestriction when structural changes are not allowed now."""


class AllowStructureChanges:
    """The policy before licences are installed: every structural change is allowed."""

    def check_structure_change(self, conn: sa.Connection) -> None:
        return None
