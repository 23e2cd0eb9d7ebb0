"""Layouts: how a record card (form) and a list view (list) of an entity are arranged.

A layout is JSON (``metadata/layout.schema.json``; the contract is the "layout format"
brief of issue 6): form layouts hold tabs, sections and 12-column grid rows of
elements; list layouts hold columns, widths and a default sort. Fields are named by
their stable id, so renaming a field keeps it in place; a field that was removed is
kept in the layout and skipped where it is shown. Nothing here imports Flask.

    runtime.layouts.effective("clients")          # saved (role's, general) or automatic
    runtime.layouts.save("clients", "form", body, actor=admin)
"""

from __future__ import annotations

from recordbase.layouts.automatic import automatic_form, automatic_list
from recordbase.layouts.check import check_layout, is_child_table
from recordbase.layouts.parse import MAX_BYTES, MAX_DEPTH, parse_layout
from recordbase.layouts.service import KINDS, LayoutService, LayoutVersion

__all__ = [
    "KINDS",
    "MAX_BYTES",
    "MAX_DEPTH",
    "LayoutService",
    "LayoutVersion",
    "automatic_form",
    "automatic_list",
    "check_layout",
    "is_child_table",
    "parse_layout",
]
