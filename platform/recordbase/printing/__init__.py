"""Print forms: templates per entity, rendered to PDF, HTML or Word in a sandbox.

    prints = PrintService(engine, cache, files)     # made by make_runtime
    register_dependents(prints, registry)           # likewise: previews list templates
    prints.create("invoices", {"name": ..., "label": ..., "body": ..., "css": ..., "page": ...})
    doc = prints.render("invoices", "payment_invoice", [42], "pdf", user)

See ``service`` (the service), ``sandbox`` and ``worker`` (how a template runs),
``pdf`` and ``guard`` (what a render may touch), ``context`` (what it sees).
"""

from __future__ import annotations

import weakref
from typing import Any

from recordbase.catalog import Catalog
from recordbase.fields.registry import FieldTypeRegistry
from recordbase.model import EntityDef, FieldDef
from recordbase.printing.service import PrintService

__all__ = ["PrintService", "register_dependents"]

#: the print service of each runtime, found through the field-type registry its catalogs
#: carry (the finders get a catalog, and one process may hold several runtimes)
_SERVICES: weakref.WeakKeyDictionary[FieldTypeRegistry, PrintService] = (
    weakref.WeakKeyDictionary()
)


def _service_of(catalog: Catalog) -> PrintService | None:
    return _SERVICES.get(catalog.registry)


def print_template_field_users(
    catalog: Catalog, entity: EntityDef, fdef: FieldDef
) -> list[dict[str, Any]]:
    """Print templates that use a field (for the previews of renames and removals)."""
    service = _service_of(catalog)
    return service.field_dependents(catalog, entity, fdef.name) if service else []


def print_template_entity_users(catalog: Catalog, entity: EntityDef) -> list[dict[str, Any]]:
    """Print templates of an entity, or that use its records."""
    service = _service_of(catalog)
    return service.entity_dependents(catalog, entity) if service else []


def register_dependents(service: PrintService, registry: FieldTypeRegistry) -> None:
    """Let the structure editor's previews list print templates (idempotent)."""
    from recordbase.schema import dependents

    _SERVICES[registry] = service
    if print_template_field_users not in dependents.FIELD_FINDERS:
        dependents.FIELD_FINDERS.append(print_template_field_users)
    if print_template_entity_users not in dependents.ENTITY_FINDERS:
        dependents.ENTITY_FINDERS.append(print_template_entity_users)
