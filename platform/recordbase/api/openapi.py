"""The OpenAPI 3 document, generated from the live metadata on every request."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from recordbase import __version__, db
from recordbase import access as acl
from recordbase.api import bp
from recordbase.api.auth import current_user, login_required, runtime
from recordbase.api.layouts import layout_paths
from recordbase.catalog import Catalog
from recordbase.model import EntityDef
from recordbase.records.query import MAX_PAGE_SIZE

PROBLEM = {"$ref": "#/components/responses/Problem"}


def record_schema(catalog: Catalog, entity: EntityDef, *, for_input: bool) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required = []
    for fdef in entity.fields:
        ftype = catalog.type_of(fdef)
        if for_input and ftype.read_only:
            continue
        schema = dict(ftype.value_schema)
        schema["description"] = fdef.label + (f". {fdef.help}" if fdef.help else "")
        if not fdef.required:
            schema["nullable"] = True
        props[fdef.name] = schema
        if for_input and fdef.required and fdef.default is None:
            required.append(fdef.name)
    if not for_input:
        props = {"id": {"type": "integer"}, "version": {"type": "integer"}, **props}
    if entity.tree:
        props["parent"] = {"type": "integer", "nullable": True}
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def entity_paths(catalog: Catalog, entity: EntityDef) -> dict[str, Any]:
    name = entity.name
    ref = {"$ref": f"#/components/schemas/{name}"}
    ref_in = {"$ref": f"#/components/schemas/{name}_input"}
    filters = [
        {
            "name": f"filter[{f.name}][{op}]",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": f"{f.label}: {op}",
        }
        for f in entity.fields
        for op in catalog.type_of(f).operators
    ]
    list_params = [
        {
            "name": "sort",
            "in": "query",
            "schema": {"type": "string"},
            "description": "Comma-separated field names; a leading - sorts descending.",
        },
        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        },
        {
            "name": "after",
            "in": "query",
            "schema": {"type": "string"},
            "description": "The next cursor of the previous page.",
        },
        {
            "name": "before",
            "in": "query",
            "schema": {"type": "string"},
            "description": "The previous cursor of the next page: the page that ends before it.",
        },
    ]
    item_path = {
        "parameters": [
            {
                "name": "id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        ],
        "get": {
            "summary": f"One {entity.label}",
            "responses": {
                "200": {
                    "description": entity.label,
                    "content": {"application/json": {"schema": ref}},
                },
                "404": PROBLEM,
            },
        },
        "patch": {
            "summary": f"Change a {entity.label}",
            "parameters": [{"name": "If-Match", "in": "header", "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/json": {"schema": ref_in}}},
            "responses": {
                "200": {"description": "Changed", "content": {"application/json": {"schema": ref}}},
                "409": PROBLEM,
                "422": PROBLEM,
            },
        },
        "delete": {
            "summary": f"Delete a {entity.label}",
            "responses": {"204": {"description": "Deleted"}, "409": PROBLEM},
        },
    }
    return {
        f"/records/{name}": {
            "get": {
                "summary": f"List {entity.label_plural}",
                "parameters": list_params + filters,
                "responses": {
                    "200": {
                        "description": "A page",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "items": {"type": "array", "items": ref},
                                        "next": {"type": "string", "nullable": True},
                                        "previous": {"type": "string", "nullable": True},
                                        "titles": {"type": "object"},
                                    },
                                }
                            }
                        },
                    },
                    "400": PROBLEM,
                    "422": PROBLEM,
                },
            },
            "post": {
                "summary": f"Create a {entity.label}",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref_in}},
                },
                "responses": {
                    "201": {
                        "description": "Created",
                        "content": {"application/json": {"schema": ref}},
                    },
                    "422": PROBLEM,
                    "409": PROBLEM,
                },
            },
        },
        f"/records/{name}/{{id}}": item_path,
    }


def build_document(catalog: Catalog, entities: list[EntityDef] | None = None) -> dict[str, Any]:
    """The document for ``entities`` (as the caller sees them; default: every live one)."""
    paths: dict[str, Any] = {
        "/auth/token": {
            "post": {
                "summary": "Sign in and get a token",
                "security": [],
                "responses": {"201": {"description": "A token"}, "401": PROBLEM},
            }
        },
        "/entities": {
            "get": {"summary": "All entities", "responses": {"200": {"description": "Entities"}}}
        },
    }
    paths.update(layout_paths(PROBLEM))
    schemas: dict[str, Any] = {}
    for entity in catalog.live_entities() if entities is None else entities:
        paths.update(entity_paths(catalog, entity))
        schemas[entity.name] = record_schema(catalog, entity, for_input=False)
        schemas[f"{entity.name}_input"] = record_schema(catalog, entity, for_input=True)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Recordbase API",
            "version": __version__,
            "description": f"Generated from metadata version {catalog.version}.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
            "responses": {
                "Problem": {
                    "description": "A problem document",
                    "content": {
                        "application/problem+json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "title": {"type": "string"},
                                    "status": {"type": "integer"},
                                    "detail": {"type": "string"},
                                    "errors": {"type": "object"},
                                },
                            }
                        }
                    },
                }
            },
        },
    }


@bp.get("/openapi.json")
@login_required
def openapi_document() -> Response:
    """Only the entities the caller may read, without the fields hidden from them."""
    rt, user = runtime(), current_user()
    with db.read(rt.engine) as conn:
        catalog = rt.cache.current(conn)
        visible = []
        for entity in catalog.live_entities():
            rights = rt.access.rights(conn, user, entity)
            if "read" in rights.actions:
                visible.append(acl.view(entity, rights))
    return jsonify(build_document(catalog, visible))
