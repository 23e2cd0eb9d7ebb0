"""PrintService: print templates per entity, checked against the schema, rendered safely.

Templates are stored (``TemplateStore``), linted against the live catalog on
save and whenever the metadata version has moved since they were last looked at
(``recordbase.printing.lint``), and rendered by a worker process
(``recordbase.printing.worker``) from data this service reads
(``recordbase.printing.context``). Every entity also has the two generic
printouts of ``print_templates/`` (``generic_record``, ``generic_list``).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from recordbase import db
from recordbase.access import AccessService
from recordbase.catalog import Catalog, CatalogCache
from recordbase.errors import NotFound, TemplateError, ValidationError
from recordbase.files import FileService
from recordbase.messages import joined, msg
from recordbase.model import EntityDef
from recordbase.printing import files as template_files
from recordbase.printing import lint, spec
from recordbase.printing.context import MAX_BATCH, RecordLoader, user_json
from recordbase.printing.store import StoredTemplate, TemplateStore
from recordbase.printing.worker import Limits, PrintWorkers, RenderJob
from recordbase.users import User

FORMATS = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
MAX_RESOURCE_BYTES = 10 * 1024 * 1024
FILE_URI = re.compile(r"^rb-file:([0-9]{1,18})$")
ASSET_URI = re.compile(r"^rb-asset:(.+)$")


@dataclass(frozen=True)
class Document:
    content: bytes
    mimetype: str
    filename: str
    refused: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolved:
    """A template ready to render: its data, kind and the internal name it compiles as."""

    data: spec.TemplateData
    kind: str
    main: str
    docx: bytes | None
    builtin: bool
    stored: StoredTemplate | None = None


class PrintService:
    def __init__(
        self,
        engine: sa.Engine,
        cache: CatalogCache,
        files: FileService,
        *,
        company_entity: str = "company",
        limits: Limits | None = None,
        access: AccessService | None = None,
    ) -> None:
        self.engine = engine
        self.cache = cache
        self.files = files
        #: the caller's rights decide which linked records and fields a printout shows
        self.access = access
        self.company_entity = company_entity
        self.limits = limits or Limits()
        self.store = TemplateStore(engine)
        self._workers: PrintWorkers | None = None
        self._lint: dict[tuple[str, int], lint.Report] = {}
        self._lock = threading.Lock()

    @property
    def workers(self) -> PrintWorkers:
        with self._lock:
            if self._workers is None:
                self._workers = PrintWorkers(self.limits)
            return self._workers

    # --- templates --------------------------------------------------------------------

    def list_templates(self, entity_name: str) -> list[dict[str, Any]]:
        catalog = self.cache.current()
        entity = catalog.entity(entity_name)
        out = [self._describe(catalog, entity, t) for t in self.store.all([entity.id])]
        for name, builtin in template_files.generic_templates().items():
            header = builtin.header
            out.append(
                {
                    "name": name,
                    "label": str(header.get("label", name)),
                    "entity": entity.name,
                    "kind": "html",
                    "scope": str(header.get("scope", "record")),
                    "builtin": True,
                    "formats": ["pdf", "html"],
                    "broken": False,
                    "problems": [],
                }
            )
        return out

    def template(self, entity_name: str, name: str) -> dict[str, Any]:
        catalog = self.cache.current()
        entity = catalog.entity(entity_name)
        if name in spec.BUILTIN_NAMES:
            resolved = self._resolve(entity, name)
            return {
                "name": name,
                "entity": entity.name,
                "builtin": True,
                "kind": "html",
                **self._data_json(resolved.data),
            }
        stored = self.store.get(entity, name)
        return {**self._describe(catalog, entity, stored), **self._data_json(stored.data)}

    def _data_json(self, data: spec.TemplateData) -> dict[str, Any]:
        return {
            "label": data.label,
            "body": data.body,
            "css": data.css,
            "page": data.page,
            "scope": data.scope,
            "locale": data.locale,
        }

    def _describe(
        self, catalog: Catalog, entity: EntityDef, stored: StoredTemplate
    ) -> dict[str, Any]:
        report = self.report(catalog, entity, stored)
        return {
            "name": stored.name,
            "label": stored.label,
            "entity": entity.name,
            "kind": stored.kind,
            "scope": stored.scope,
            "locale": stored.locale,
            "builtin": False,
            "formats": ["docx"] if stored.kind == "docx" else ["pdf", "html"],
            "revision": stored.revision,
            "updated_at": stored.updated_at.isoformat(),
            "updated_by": stored.author,
            "broken": not report.ok,
            "problems": [p.as_json() for p in report.problems],
        }

    def create(self, entity_name: str, data: Any, *, user_id: int | None) -> dict[str, Any]:
        catalog = self.cache.current()
        entity = catalog.entity(entity_name)
        template = spec.parse_spec(data)
        self._check(catalog, entity, template.body, template.scope)
        self.store.create(entity, template, user_id=user_id)
        return self.template(entity.name, template.name)

    def update(
        self, entity_name: str, name: str, data: Any, *, user_id: int | None
    ) -> dict[str, Any]:
        catalog = self.cache.current()
        entity = catalog.entity(entity_name)
        current = self.store.get(entity, name)
        template = spec.parse_spec(data, kind=current.kind)
        if current.kind == "docx":
            self._check_docx(catalog, entity, current.docx or b"")
        else:
            self._check(catalog, entity, template.body, template.scope)
        self.store.save(entity, name, template, user_id=user_id)
        return self.template(entity.name, template.name)

    def revert(
        self, entity_name: str, name: str, number: int, *, user_id: int | None
    ) -> dict[str, Any]:
        entity = self.cache.current().entity(entity_name)
        data, docx = self.store.revision(entity, name, number)
        self.store.save(
            entity,
            name,
            data,
            docx=docx,
            keep_docx=False,
            user_id=user_id,
            note=f"Reverted to revision {number}.",
        )
        return self.template(entity.name, name)

    def revisions(self, entity_name: str, name: str) -> list[dict[str, Any]]:
        entity = self.cache.current().entity(entity_name)
        return self.store.revisions(entity, name)

    def delete(self, entity_name: str, name: str) -> None:
        entity = self.cache.current().entity(entity_name)
        self.store.delete(entity, name)

    def save_docx(
        self,
        entity_name: str,
        name: str,
        label: str | None,
        content: bytes,
        *,
        user_id: int | None,
    ) -> dict[str, Any]:
        """Create or replace a Word template (a new revision when it exists)."""
        from recordbase.printing.docx import check_docx

        catalog = self.cache.current()
        entity = catalog.entity(entity_name)
        check_docx(content)
        self._check_docx(catalog, entity, content)
        data = spec.parse_spec({"name": name, "label": label or name, "body": ""}, kind="docx")
        try:
            current = self.store.get(entity, name)
        except NotFound:
            self.store.create(entity, data, kind="docx", docx=content, user_id=user_id)
        else:
            if current.kind != "docx":
                raise ValidationError(
                    msg(
                        "The template '{name}' is an HTML template; choose another name for "
                        "the Word template.",
                        name=name,
                    ),
                    fields={"name": msg("An HTML template has this name.")},
                )
            self.store.save(entity, name, data, docx=content, user_id=user_id)
        return self.template(entity.name, name)

    # --- checking ---------------------------------------------------------------------

    def lint_source(
        self, entity_name: str, body: str, scope: str = "record"
    ) -> list[dict[str, Any]]:
        catalog = self.cache.current()
        entity = catalog.entity(entity_name)
        report = lint.Linter(catalog, self.company_entity).lint(body, entity, scope=scope)
        return [p.as_json() for p in report.problems]

    def lint_or_raise(self, entity_name: str, body: str, scope: str = "record") -> None:
        """Raise a TemplateError with line numbers unless ``body`` fits the live schema."""
        catalog = self.cache.current()
        self._check(catalog, catalog.entity(entity_name), body, scope)

    def report(
        self, catalog: Catalog, entity: EntityDef, stored: StoredTemplate, *, cached: bool = True
    ) -> lint.Report:
        """The template checked against this catalog (cached per revision and version, for
        catalogs of the cache; a structural change in progress has a catalog of its own,
        with the version it will commit under, so its checks are not kept)."""
        key = (f"{stored.revision_id}", catalog.version)
        found = self._lint.get(key) if cached else None
        if found is None:
            source = stored.body
            if stored.kind == "docx":
                source = self._docx_source(stored.docx or b"")
            found = lint.Linter(catalog, self.company_entity).lint(
                source, entity, scope=stored.scope
            )
            if cached:
                with self._lock:
                    if len(self._lint) > 2000:
                        self._lint.clear()
                    self._lint[key] = found
        return found

    def _docx_source(self, content: bytes) -> str:
        from recordbase.printing.docx import docx_source

        try:
            return docx_source(content)
        except Exception as exc:  # noqa: BLE001 (a broken upload is reported, not raised)
            return "{{ " + "'" + f"unreadable Word file: {type(exc).__name__}" + "' }}{% if %}"

    def _check(self, catalog: Catalog, entity: EntityDef, body: str, scope: str) -> None:
        report = lint.Linter(catalog, self.company_entity).lint(body, entity, scope=scope)
        if report.problems:
            raise problems_error(report.problems)

    def _check_docx(self, catalog: Catalog, entity: EntityDef, content: bytes) -> None:
        self._check(catalog, entity, self._docx_source(content), "record")

    # --- rendering --------------------------------------------------------------------

    def _resolve(self, entity: EntityDef, name: str) -> Resolved:
        if name in spec.BUILTIN_NAMES:
            builtin = template_files.generic_templates().get(name)
            if builtin is None:
                raise NotFound(msg("The built-in template '{name}' is not installed.", name=name))
            data = spec.parse_spec({**builtin.header, "name": "builtin", "body": builtin.body})
            data.name = name
            return Resolved(data, "html", f"tpl:{name}", None, True)
        stored = self.store.get(entity, name)
        return Resolved(
            stored.data, stored.kind, f"tpl:{stored.revision_id}", stored.docx, False, stored
        )

    def render(
        self, entity_name: str, name: str, ids: Sequence[int], fmt: str, user: User | None
    ) -> Document:
        """One document for the records ``ids`` (each on its own page for a record template,
        all together for a list template)."""
        catalog = self.cache.current()
        entity = catalog.entity(entity_name)
        resolved = self._resolve(entity, name)
        return self._render(catalog, entity, resolved, list(ids), fmt, user)

    def preview(
        self, entity_name: str, data: Any, ids: Sequence[int], fmt: str, user: User | None
    ) -> Document:
        """An unsaved template rendered for some records (the editor's live preview)."""
        catalog = self.cache.current()
        entity = catalog.entity(entity_name)
        template = spec.parse_spec(
            {"name": "preview", **(data if isinstance(data, Mapping) else {})}
        )
        self._check(catalog, entity, template.body, template.scope)
        resolved = Resolved(template, "html", "tpl:preview", None, False)
        return self._render(catalog, entity, resolved, list(ids), fmt, user)

    def _render(
        self,
        catalog: Catalog,
        entity: EntityDef,
        resolved: Resolved,
        ids: list[int],
        fmt: str,
        user: User | None,
    ) -> Document:
        check_format(resolved, fmt)
        if not ids:
            raise ValidationError(
                msg("Say which records to print."), fields={"ids": msg("Required.")}
            )
        if len(ids) > MAX_BATCH:
            raise ValidationError(
                msg("At most {max_batch} records are printed at once.", max_batch=MAX_BATCH),
                fields={"ids": msg("Too many.")}
            )
        if len(ids) > 1 and fmt == "docx":
            raise ValidationError(msg("A Word document is filled for one record at a time."))
        report = self._report_for(catalog, entity, resolved)
        if report.problems:
            raise problems_error(report.problems, saved=True)
        data = resolved.data
        parts = self._contexts(catalog, entity, ids, data, report, user)
        batch = len(parts) > 1
        job = RenderJob(
            fmt=fmt,
            main=resolved.main,
            sources={resolved.main: data.body, **template_files.partials()},
            parts=parts,
            css=spec.page_css(data.page) + template_files.base_css() + "\n" + data.css,
            locale=data.locale,
            title=f"{data.label}",
            today=dt.date.today(),
            docx=resolved.docx,
            limits=self.limits,
            seconds=self.limits.batch_seconds if batch else self.limits.seconds,
        )
        rendered = self.workers.run(job, self._resolve_resources)
        return Document(
            rendered.content,
            FORMATS[fmt],
            document_name(entity, data.name, parts, fmt),
            tuple(rendered.refused),
        )

    def _report_for(self, catalog: Catalog, entity: EntityDef, resolved: Resolved) -> lint.Report:
        if resolved.stored is not None:
            return self.report(catalog, entity, resolved.stored)
        if resolved.builtin:
            return lint.Report(related=set())
        return lint.Linter(catalog, self.company_entity).lint(
            resolved.data.body, entity, scope=resolved.data.scope
        )

    def _contexts(
        self,
        catalog: Catalog,
        entity: EntityDef,
        ids: list[int],
        data: spec.TemplateData,
        report: lint.Report,
        user: User | None,
    ) -> list[dict[str, Any]]:
        with db.read(self.engine) as conn:
            catalog = self.cache.current(conn)
            loader = RecordLoader(conn, catalog, data.locale, access=self.access, actor=user)
            related = loader.related_ids(entity, ids, report.related) if report.related else {}
            loader.load(entity, ids)
            for keys in related.values():
                for name, pairs in keys.items():
                    loader.load(catalog.entity(name), [i for _, i in pairs], depth=1)
            company = self._company(conn, catalog, loader)
            missing = [i for i in ids if (entity.name, i) not in loader.items]
            if missing:
                raise NotFound(msg(
                    "There is no {entity} with id {record_id}.",
                    entity=entity.label, record_id=missing[0],
                ))
            views = [loader.view(entity, i) for i in ids]
            common = {
                "company": company,
                "user": user_json(user),
                "entity": {
                    "name": entity.name,
                    "label": entity.label,
                    "label_plural": entity.label_plural,
                },
            }
            if data.scope == "list":
                return [{**common, "records": views}]
            return [
                {
                    **common,
                    "record": view,
                    "related": {
                        name: [
                            loader.view(catalog.entity(n), i, 1)
                            for n, i in related.get(record_id, {}).get(name, [])
                        ]
                        for name in sorted(report.related or ())
                    },
                }
                for record_id, view in zip(ids, views, strict=True)
            ]

    def _company(self, conn: sa.Connection, catalog: Catalog, loader: RecordLoader) -> Any:
        """The company card: the organisation's own letterhead and requisites.

        Read without the printing user's record rights: every printed document carries
        it, so a role allowed to print invoices prints them whole even when it may not
        open the company card itself (a manager's role usually may not).
        """
        company = catalog.entities.get(self.company_entity)
        if company is None or company.removed:
            return None
        table = catalog.table(company)
        first = conn.execute(sa.select(table.c.id).order_by(table.c.id).limit(1)).scalar()
        if first is None:
            return None
        letterhead = RecordLoader(conn, catalog, loader.locale)
        letterhead.load(company, [first], depth=2)
        return letterhead.view(company, first, 2)

    def _resolve_resources(self, uris: list[str]) -> dict[str, tuple[str, bytes]]:
        """Stored images by id and platform assets by name, for the worker's fetch gate."""
        out: dict[str, tuple[str, bytes]] = {}
        total = 0
        for uri in uris:
            found: tuple[str, bytes] | None = None
            file_match = FILE_URI.match(uri)
            asset_match = ASSET_URI.match(uri)
            if file_match:
                try:
                    info = self.files.info(int(file_match.group(1)))
                except NotFound:
                    continue
                if info.content_type.startswith("image/") and info.size <= MAX_RESOURCE_BYTES:
                    found = (info.content_type, self.files.content(info.id)[1])
            elif asset_match:
                found = template_files.read_asset(asset_match.group(1))
            if found is not None and total + len(found[1]) <= self.limits.output_bytes:
                total += len(found[1])
                out[uri] = found
        return out

    # --- what a structural change touches ---------------------------------------------

    def field_dependents(
        self, catalog: Catalog, entity: EntityDef, field_name: str
    ) -> list[dict[str, Any]]:
        out = []
        for owner, stored, report in self._all_reports(catalog):
            lines = sorted(
                {r.line for r in report.refs if r.entity == entity.name and r.field == field_name}
            )
            if lines:
                out.append(dependent(owner, stored, lines, msg(
                    "uses {entity}.{field}", entity=entity.name, field=field_name
                )))
        return out

    def entity_dependents(self, catalog: Catalog, entity: EntityDef) -> list[dict[str, Any]]:
        out = []
        for owner, stored, report in self._all_reports(catalog):
            if owner.id == entity.id:
                out.append(dependent(
                    owner, stored, [], msg("prints {entity} records", entity=entity.name)
                ))
            elif entity.name in report.entities:
                lines = sorted({r.line for r in report.refs if r.entity == entity.name})
                out.append(
                    dependent(owner, stored, lines, msg("uses {entity}", entity=entity.name))
                )
        return out

    def _all_reports(self, catalog: Catalog) -> list[tuple[EntityDef, StoredTemplate, lint.Report]]:
        out = []
        for stored in self.store.all():
            try:
                owner = catalog.entity_by_id(stored.entity_id)
            except NotFound:
                continue
            out.append((owner, stored, self.report(catalog, owner, stored, cached=False)))
        return out


def dependent(
    owner: EntityDef, stored: StoredTemplate, lines: list[int], what: str
) -> dict[str, Any]:
    names = {"entity": owner.name, "name": stored.name, "what": what}
    if len(lines) == 1:
        text = msg("print template {entity}/{name} {what} (line {line})", **names, line=lines[0])
    elif lines:
        text = msg(
            "print template {entity}/{name} {what} (lines {lines})",
            **names, lines=", ".join(map(str, lines)),
        )
    else:
        text = msg("print template {entity}/{name} {what}", **names)
    return {
        "kind": "print_template",
        "entity": owner.name,
        "template": stored.name,
        "lines": lines,
        "text": text,
    }


def check_format(resolved: Resolved, fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValidationError(
            msg("The format is pdf, html or docx, not {fmt}.", fmt=repr(fmt[:20])),
            fields={"format": msg("Unknown.")}
        )
    if resolved.kind == "docx" and fmt != "docx":
        raise ValidationError(
            msg("'{name}' is a Word template: ask for format=docx.", name=resolved.data.name),
            fields={"format": msg("Use docx.")},
        )
    if resolved.kind != "docx" and fmt == "docx":
        raise ValidationError(
            msg(
                "'{name}' is an HTML template: ask for format=pdf or format=html.",
                name=resolved.data.name,
            ),
            fields={"format": msg("Use pdf or html.")},
        )


def problems_error(problems: Sequence[lint.Problem], *, saved: bool = False) -> TemplateError:
    first = problems[0]
    parts: list[str] = []
    if saved:
        parts.append(msg("The template no longer matches the structure: "))
    parts.append(lint.at_line(first.line, first.message))
    if len(problems) == 2:
        parts.append(msg(" (and 1 more problem)"))
    elif len(problems) > 2:
        parts.append(msg(" (and {count} more problems)", count=len(problems) - 1))
    return TemplateError(
        joined(parts, ""),
        fields={"body": joined([lint.at_line(p.line, p.message, lower=True) for p in problems[:20]],
                               "; ")},
        extra={"line": first.line, "problems": [p.as_json() for p in problems]},
    )


SAFE_NAME = re.compile(r"[^\w.-]+", re.UNICODE)


def document_name(entity: EntityDef, template: str, parts: list[dict[str, Any]], fmt: str) -> str:
    record = parts[0].get("record") if len(parts) == 1 else None
    title = str(record) if record is not None else entity.name
    stem = SAFE_NAME.sub("_", f"{template}-{title}").strip("_.")[:120] or "print"
    return f"{stem}.{fmt}"
