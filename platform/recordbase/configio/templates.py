"""Print templates in the configuration exchange: ``print_templates/<entity>.<name>.html.j2``.

A template file is Jinja with its settings (label, scope, locale, page, CSS) in a
YAML header inside a Jinja comment (``recordbase.printing.files``; the header's
shape is ``metadata/print_template.schema.json``). ``config diff`` lists the
templates a folder adds (``+``) or changes (``~``, naming what differs);
``config apply`` stores them as the last steps of the same transaction as the
structure, after it, so a template may use a field the same apply adds: each is
checked against the catalog as it will be, and one that does not fit stops the
whole apply, naming its file and line. A changed template gets a new revision;
templates that only the database has are kept (nothing is removed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from recordbase.catalog import Catalog
from recordbase.errors import ValidationError
from recordbase.printing import lint, sandbox
from recordbase.printing.configfiles import FOLDER, read_templates
from recordbase.printing.spec import SIDES, TemplateData
from recordbase.printing.store import TemplateStore
from recordbase.schema.operation import OpContext, Operation, Outcome

from .steps import Step

if TYPE_CHECKING:
    from recordbase.runtime import Runtime

COMPARED = ("label", "body", "css", "page", "scope", "locale")


@dataclass(frozen=True)
class StoreTemplate(Step):
    """A template file to store: new (``changes`` empty) or differing in ``changes``."""

    entity: str
    data: TemplateData
    shown: str
    company_entity: str | None
    changes: tuple[str, ...] = ()

    def describe(self) -> str:
        if not self.changes:
            return f"+ print template {self.entity}.{self.data.name} ({self.shown})"
        return (f"~ print template {self.entity}.{self.data.name} "
                f"{', '.join(self.changes)} ({self.shown})")

    def operations(self) -> list[Operation]:
        return []

    def finishing(self) -> list[Operation]:
        return [StoreTemplateOp(self.entity, self.data, self.shown, self.company_entity)]


class StoreTemplateOp(Operation):
    """Stores one template file inside the apply's transaction (never undone alone)."""

    name: ClassVar[str] = "store_print_template"
    structural: ClassVar[bool] = False

    def __init__(self, entity: str, data: TemplateData, shown: str,
                 company_entity: str | None) -> None:
        self.entity = entity
        self.data = data
        self.shown = shown
        self.company_entity = company_entity

    def run(self, ctx: OpContext) -> Outcome:
        entity = ctx.catalog.entities.get(self.entity)
        if entity is None or entity.removed or entity.child:
            raise ValidationError(
                f"{self.shown}: there is no entity {self.entity!r} to print "
                "(the file name says <entity>.<name>.html.j2)."
            )
        report = lint.Linter(ctx.catalog, self.company_entity).lint(
            self.data.body, entity, scope=self.data.scope
        )
        if report.problems:
            first = report.problems[0]
            where = f"line {first.line}: " if first.line else ""
            raise ValidationError(f"{self.shown}: {where}{first.message}",
                                  fields={self.shown: f"{where}{first.message}"})
        written = False
        if not ctx.dry_run:
            written = TemplateStore(ctx.conn.engine).write_in(
                ctx.conn, entity, self.data, user_id=ctx.user_id,
                note=f"From {self.shown} (config apply).",
            )
        return Outcome(self.name, entity=entity.name, after={"template": self.data.name,
                                                             "written": written},
                       undoable=False)


def read_checked(directory: Path) -> list[tuple[str, TemplateData, str]]:
    """The folder's template files, each with a valid header and Jinja syntax; else one
    sentence naming every bad file and, for syntax, its line."""
    found = read_templates(directory)
    problems = []
    for _entity, data, shown in found:
        failure = sandbox.syntax_check(data.body, "tpl:config")
        if failure is not None:
            where = f"line {failure.line}: " if failure.line else ""
            problems.append(f"{shown}: {where}{failure.message}")
    if problems:
        raise ValidationError(
            f"The print templates have {len(problems)} problem(s); nothing was changed: "
            + "; ".join(problems[:10]),
            fields={p.split(":", 1)[0]: p.split(":", 1)[1].strip() for p in problems},
        )
    return found


def template_steps(runtime: Runtime, directory: Path, live: Catalog) -> list[Step]:
    """A step for each template file that the database lacks or holds differently."""
    stored = {}
    for template in runtime.prints.store.all():
        stored[(template.entity_id, template.name)] = template
    steps: list[Step] = []
    company = runtime.prints.company_entity
    for entity_name, data, shown in read_checked(directory):
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
    """Every stored HTML template as a file; template files of the folder that no longer
    match a stored template are removed (they would bring it back)."""
    from recordbase.configio.export import write_atomically
    from recordbase.printing.files import write_template_file

    folder = Path(directory) / FOLDER
    written: list[Path] = []
    for stored in runtime.prints.store.all():
        entity = next((e for e in live.live_entities() if e.id == stored.entity_id), None)
        if entity is None or stored.kind != "html":
            continue
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{entity.name}.{stored.name}.html.j2"
        write_atomically(path, write_template_file(header_of(stored.data), stored.body))
        written.append(path)
    if folder.is_dir():
        for stale in sorted(set(folder.glob("*.html.j2")) - set(written)):
            stale.unlink()
    return sorted(written)
