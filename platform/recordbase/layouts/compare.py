"""What changed between two layouts: tabs, sections and elements (form) or columns (list)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _parts(body: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Tabs, sections and elements by id, each with where it sits; list columns by field."""
    tabs: dict[str, dict[str, Any]] = {}
    sections: dict[str, dict[str, Any]] = {}
    elements: dict[str, dict[str, Any]] = {}
    for t, tab in enumerate(body.get("tabs", [])):
        tabs[tab["id"]] = {"label": tab["label"], "position": t}
        for s, section in enumerate(tab["sections"]):
            sections[section["id"]] = {
                "label": section["label"], "collapsed": section["collapsed"], "tab": tab["id"],
                "position": s,
            }
            for element in section["elements"]:
                elements[element["id"]] = {**element, "section": section["id"]}
    columns = {
        str(c["field"]): {"width": c.get("width"), "position": n}
        for n, c in enumerate(body.get("columns", []))
    }
    return {"tabs": tabs, "sections": sections, "elements": elements, "columns": columns}


def _diff(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> dict[str, Any]:
    changed = []
    for key in sorted(set(old) & set(new)):
        keys = sorted(set(old[key]) | set(new[key]))
        changes = {k: [old[key].get(k), new[key].get(k)] for k in keys
                   if old[key].get(k) != new[key].get(k)}
        if changes:
            changed.append({"id": key, "changes": changes})
    return {
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
        "changed": changed,
    }


def compare_layouts(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``{"tabs"|"sections"|"elements"|"columns": {"added", "removed", "changed"}}`` by id
    (list columns by field id), plus ``"sort": [old, new]`` when the default sort changed."""
    a, b = _parts(old), _parts(new)
    out: dict[str, Any] = {part: _diff(a[part], b[part]) for part in a}
    if old.get("sort", []) != new.get("sort", []):
        out["sort"] = [old.get("sort", []), new.get("sort", [])]
    return out
