"""Print templates in the configuration exchange: ``print_templates/<entity>.<name>.html.j2``
and Word templates, ``<entity>.<name>.docx`` with a JSON sidecar (``configio.word``).

A template file is Jinja with its settings (label, scope, locale, page, CSS) in a
YAML header inside a Jinja comment (``recordbase.printing.files``; the header's
shape is ``metadata/print_template.schema.json``). ``config diff`` lists the
templates a folder adds (``+``) or changes (``~``, naming what differs);
``config apply`` stores them as the last steps of the same transaction as the
structure, after it, so a template may use a field the same apply adds: each is
checked against the catalog as it will be, and one that does not fit stops the
whole apply, naming its file and line. A changed template gets a new revision;
templates that only the database has are kept (nothing is removed). Word documents
go the same way: checked when read, their Jinja checked against the catalog as it
will be, stored in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from recordbase.catalog import Catalog
from recordbase.errors import ValidationError
from recordbase.messages import joined, msg
from recordbase.printing import lint, sandbox
from recordbase.printing.configfiles import FOLDER, read_templates
from recordbase.printing.spec import SIDES, TemplateData
from recordbase.printing.store import TemplateStore
from recordbase.schema.operation import OpContext, Operation, Outcome

from .steps import Step
from .word import WordFile, read_word_files, sidecar_of

if TYPE_CHECKING:
    from recordbase.runtime import Runtime

COMPARED = ("label", "body", "css", "page", "scope", "locale")
WORD_COMPARED = ("label", "locale")


@dataclass(frozen=True)
class StoreTemplate(Step):
    """A template file to store: new (``changes`` empty) or differing in ``changes``."""

    entity: str
    data: TemplateData
    shown: str
    company_entity: str | None
    changes: tuple[str, ...] = ()
    #: the document of a Word template (None: an HTML one)
    docx: bytes | None = field(default=None, repr=False)

    def describe(self) -> str:
        if not self.changes:
            return f"+ print template {self.entity}.{self.data.name} ({self.shown})"
        return (f"~ print template {self.entity}.{self.data.name} "
                f"{', '.join(self.changes)} ({self.shown})")

    def operations(self) -> list[Operation]:
        return []

    def finishing(self) -> list[Operation]:
        return [StoreTemplateOp(self.entity, self.data, self.shown, self.company_entity,
                                self.docx)]


class StoreTemplateOp(Operation):
    """Stores one template file inside the apply's transaction (never undone alone)."""

    name: ClassVar[str] = "store_print_template"
    structural: ClassVar[bool] = False

    def __init__(self, entity: str, data: TemplateData, shown: str,
                 company_entity: str | None, docx: bytes | None = None) -> None:
        self.entity = entity
        self.data = data
        self.shown = shown
        self.company_entity = company_entity
        self.docx = docx

    def run(self, ctx: OpContext) -> Outcome:
        entity = ctx.catalog.entities.get(self.entity)
        if entity is None or entity.removed or entity.child:
            raise ValidationError(
                msg("{file}: there is no entity '{entity}' to print (the file name says "
                    "<entity>.<name>.html.j2 or <entity>.<name>.docx).", file=self.shown,
                    entity=self.entity)
            )
        report = lint.Linter(ctx.catalog, self.company_entity).lint(
            self._source(), entity, scope=self.data.scope
        )
        if report.problems:
            first = report.problems[0]
            problem = lint.at_line(first.line, first.message, lower=True)
            raise ValidationError(msg("{file}: {problem}", file=self.shown, problem=problem),
                                  fields={self.shown: problem})
        written = False
        if not ctx.dry_run:
            written = TemplateStore(ctx.conn.engine).write_in(
                ctx.conn, entity, self.data, user_id=ctx.user_id,
                note=f"From {self.shown} (config apply).", docx=self.docx,
            )
        return Outcome(self.name, entity=entity.name, after={"template": self.data.name,
                                                             "written": written},
                       undoable=False)

    def _source(self) -> str:
        """The Jinja to check: the body, or what docxtpl makes of the Word document."""
        if self.docx is None:
            return self.data.body
        from recordbase.printing.docx import docx_source

        try:
            return docx_source(self.docx)
        except Exception as exc:  # docxtpl raises whatever the document's XML makes it
            raise ValidationError(
                msg("{file}: the Word document cannot be read as a template ({error}).",
                    file=self.shown, error=type(exc).__name__)
            ) from exc


def read_checked(directory: Path) -> tuple[list[tuple[str, TemplateData, str]],
                                            list[WordFile]]:
    """The folder's HTML template files, each with a valid header and Jinja syntax, and
    its Word templates; else one sentence naming every bad file and what is wrong."""
    problems: list[str] = []
    try:
        found = read_templates(directory)
    except ValidationError as exc:  # the files' sentences, to go with the Word ones
        found = []
        problems += [msg("{file}: {problem}", file=shown, problem=problem)
                     for shown, problem in exc.fields.items()]
    for _entity, data, shown in found:
        failure = sandbox.syntax_check(data.body, "tpl:config")
        if failure is not None:
            problem = lint.at_line(failure.line, failure.message, lower=True)
            problems.append(msg("{file}: {problem}", file=shown, problem=problem))
    words, word_problems = read_word_files(Path(directory) / FOLDER, FOLDER)
    problems += word_problems
    html = {(entity, data.name): shown for entity, data, shown in found}
    for word in words:
        other = html.get((word.entity, word.data.name))
        if other is not None:
            problems.append(msg("{file}: {other} is a template of the same name",
                                file=word.shown, other=other))
    if problems:
        raise ValidationError(
            msg("The print templates have {count} problem(s); nothing was changed: {problems}",
                count=len(problems), problems=joined(problems[:10], "; ")),
            fields={p.split(":", 1)[0]: p.split(":", 1)[1].strip() for p in problems},
        )
    return found, words


def template_steps(runtime: Runtime, directory: Path, live: Catalog) -> list[Step]:
    """A step for each template file that the database lacks or holds differently."""
    stored = {}
    for template in runtime.prints.store.all():
        stored[(template.entity_id, template.name)] = template
    steps: list[Step] = []
    company = runtime.prints.company_entity
    found, words = read_checked(directory)
    for entity_name, data, shown in found:
        entity = live.entities.get(entity_name)
        current = stored.get((entity.id, data.name)) if entity is not None else None
        if current is None:
            steps.append(StoreTemplate(entity_name, data, shown, company))
            continue
        changes = tuple(k for k in COMPARED
                        if getattr(current.data, k) != getattr(data, k))
        if changes or current.kind != "html":
            steps.append(StoreTemplate(entity_name, data, shown, company,
                                       changes or ("kind",)))
    for word in words:
        entity = live.entities.get(word.entity)
        current = stored.get((entity.id, word.data.name)) if entity is not None else None
        if current is None:
            steps.append(StoreTemplate(word.entity, word.data, word.shown, company,
                                       docx=word.content))
            continue
        changes = tuple(k for k in WORD_COMPARED
                        if getattr(current.data, k) != getattr(word.data, k))
        if current.docx != word.content:
            changes += ("document",)
        if changes or current.kind != "docx":
            steps.append(StoreTemplate(word.entity, word.data, word.shown, company,
                                       changes or ("kind",), docx=word.content))
    return steps


# --- export ------------------------------------------------------------------------------


def header_of(data: TemplateData) -> dict[str, Any]:
    """A file's header in a fixed order (databases keep JSON keys in their own order)."""
    margins = data.page.get("margins") or {}
    header: dict[str, Any] = {
        "label": data.label,
        "scope": data.scope,
        "locale": data.locale,
        "page": {
            "size": data.page.get("size"),
            "orientation": data.page.get("orientation"),
            "margins": {side: _number(margins.get(side)) for side in SIDES},
        },
    }
    if data.css:
        header["css"] = data.css
    return header


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def export_templates(runtime: Runtime, directory: Path, live: Catalog) -> list[Path]:
    """Every stored template as a file (a Word one as its document and a sidecar); template
    files of the folder that no longer match a stored template are removed (they would
    bring it back)."""
    from recordbase.configio.export import write_atomically
    from recordbase.printing.files import write_template_file

    folder = Path(directory) / FOLDER
    written: list[Path] = []
    for stored in runtime.prints.store.all():
        entity = next((e for e in live.live_entities() if e.id == stored.entity_id), None)
        if entity is None:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{entity.name}.{stored.name}"
        if stored.kind == "docx":
            document, sidecar = folder / f"{stem}.docx", folder / f"{stem}.docx.json"
            write_atomically(document, stored.docx or b"")
            write_atomically(sidecar, sidecar_of(stored.data))
            written += [document, sidecar]
            continue
        path = folder / f"{stem}.html.j2"
        write_atomically(path, write_template_file(header_of(stored.data), stored.body))
        written.append(path)
    if folder.is_dir():
        files = {*folder.glob("*.html.j2"), *folder.glob("*.docx"), *folder.glob("*.docx.json")}
        for stale in sorted(files - set(written)):
            stale.unlink()
    return sorted(written)
