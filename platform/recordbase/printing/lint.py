"""Templates checked against the live schema: the names they use must exist.

The template is parsed (never run) and its expressions followed from the names
a print gets: ``record`` (a record of the template's entity), ``records`` (a
list printout's records), ``company`` (the company card), ``related.<entity>``
(records of another entity that link to this one). Each ``.field`` step is
checked against the entity it lands on; a link leads on to its target entity, a
child table or many-to-many field to a list of its target's records, and
``{% for x in … %}`` / ``{% set x = … %}`` carry that on to ``x``. What cannot be
followed statically (a helper's result, a computed key) is not guessed at.

The same walk yields every (entity, field) a template uses, which is what the
structure editor's previews list when a rename or removal would touch it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from jinja2 import meta, nodes
from jinja2.exceptions import TemplateSyntaxError

from recordbase.catalog import Catalog
from recordbase.messages import msg
from recordbase.model import SYSTEM_COLUMNS, EntityDef, FieldDef
from recordbase.printing import sandbox

#: names every print template gets besides the helpers
CONTEXT_NAMES = frozenset(
    {"record", "records", "company", "user", "related", "entity", "today", "range",
     "namespace", "loop", "caller", "varargs", "kwargs", "self"}
)
HELPER_NAMES = frozenset(
    {"money", "number", "date", "amount_in_words", "vat_totals", "vat_rates", "qr_payload",
     "payment_qr", "show", "label", "fields", "title", "image", "file_uri", "initials"}
)
USER_KEYS = frozenset({"id", "login", "name", "role"})


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str
    kind: str = "name"

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message, "kind": self.kind}


@dataclass(frozen=True)
class Ref:
    entity: str
    field: str
    line: int


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    refs: set[Ref] = field(default_factory=set)
    entities: set[str] = field(default_factory=set)
    related: set[str] | None = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class One:
    entity: str


@dataclass(frozen=True)
class Many:
    entity: str


USER = "user"
RELATED = "related"
Kind = One | Many | str | None


def syntax_problem(exc: TemplateSyntaxError) -> Problem:
    return Problem(exc.lineno, msg("Syntax error: {detail}", detail=exc.message or ""), "syntax")


def at_line(line: int | None, problem: str, *, lower: bool = False) -> str:
    """``Line 3: problem`` (``line 3: …`` inside a list), or the problem alone."""
    if not line:
        return problem
    if lower:
        return msg("line {line}: {problem}", line=line, problem=problem)
    return msg("Line {line}: {problem}", line=line, problem=problem)


class Linter:
    def __init__(self, catalog: Catalog, company_entity: str | None) -> None:
        self.catalog = catalog
        self.company_entity = company_entity

    def lint(self, source: str, entity: EntityDef, *, scope: str = "record") -> Report:
        report = Report()
        try:
            tree = sandbox.parse(source, "tpl:lint")
        except TemplateSyntaxError as exc:
            report.problems.append(syntax_problem(exc))
            return report
        except RecursionError:
            report.problems.append(Problem(None, msg("The template nests too deeply."), "syntax"))
            return report
        try:
            self._undeclared(tree, report)
        except TemplateSyntaxError as exc:  # found while compiling: an unknown filter or test
            report.problems.append(syntax_problem(exc))
            return report
        bindings: dict[str, Kind] = {"user": USER, "related": RELATED}
        if scope == "list":
            bindings["records"] = Many(entity.name)
        else:
            bindings["record"] = One(entity.name)
        company = self.catalog.entities.get(self.company_entity or "")
        if company is not None and not company.removed:
            bindings["company"] = One(company.name)
        self._root = entity
        self._report = report
        self._walk(tree, bindings)
        return report

    # --- names that are not defined at all ----------------------------------------------

    def _undeclared(self, tree: nodes.Template, report: Report) -> None:
        unknown = meta.find_undeclared_variables(tree) - CONTEXT_NAMES - HELPER_NAMES
        if not unknown:
            return
        for name_node in tree.find_all(nodes.Name):
            if name_node.ctx == "load" and name_node.name in unknown:
                report.problems.append(
                    Problem(name_node.lineno, msg("'{name}' is not defined in print templates.",
                                                 name=name_node.name), "undefined")
                )
                unknown.discard(name_node.name)

    # --- following expressions ---------------------------------------------------------------

    def _walk(self, node: nodes.Node, bindings: dict[str, Kind]) -> None:
        if isinstance(node, nodes.For):
            self._walk(node.iter, bindings)
            inner = dict(bindings)
            kind = self._kind(node.iter, bindings)
            if isinstance(node.target, nodes.Name):
                inner[node.target.name] = One(kind.entity) if isinstance(kind, Many) else None
            for child in [*node.body, *node.else_]:
                self._walk(child, inner)
            if node.test is not None:
                self._walk(node.test, inner)
            return
        if isinstance(node, nodes.Assign) and isinstance(node.target, nodes.Name):
            self._walk(node.node, bindings)
            bindings[node.target.name] = self._kind(node.node, bindings)
            return
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            self._kind(node, bindings)
            return
        for child in node.iter_child_nodes():
            self._walk(child, bindings)

    def _kind(self, node: nodes.Node, bindings: dict[str, Kind]) -> Kind:
        """What an expression stands for, checking each field step on the way."""
        if isinstance(node, nodes.Name):
            return bindings.get(node.name)
        key: Any = None
        if isinstance(node, nodes.Getattr):
            key = node.attr
        elif isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Const):
                key = node.arg.value
            else:
                self._walk(node.arg, bindings)
        else:
            for child in node.iter_child_nodes():
                self._walk(child, bindings)
            return None
        base = self._kind(node.node, bindings)
        if key is None:
            return None
        return self._step(base, key, node.lineno)

    def _step(self, base: Kind, key: Any, line: int) -> Kind:
        if isinstance(base, Many):
            return One(base.entity) if isinstance(key, int) else None
        if base == RELATED and isinstance(key, str):
            return self._related(key, line)
        if base == USER and isinstance(key, str) and key not in USER_KEYS:
            self._report.problems.append(
                Problem(line, msg("user has no '{key}'; it has {keys}.", key=key,
                                  keys=", ".join(sorted(USER_KEYS))))
            )
            return None
        if not isinstance(base, One) or not isinstance(key, str):
            return None
        entity = self.catalog.entities.get(base.entity)
        if entity is None:
            return None
        self._report.entities.add(entity.name)
        if key in SYSTEM_COLUMNS or (key == "parent" and entity.tree):
            return USER if key in ("created_by", "updated_by") else None
        if not entity.has_field(key):
            self._report.problems.append(
                Problem(line, msg("{entity} ({name}) has no field '{key}'.", entity=entity.label,
                                  name=entity.name, key=key))
            )
            return None
        fdef = entity.field(key)
        self._report.refs.add(Ref(entity.name, key, line))
        return self._field_kind(fdef)

    def _field_kind(self, fdef: FieldDef) -> Kind:
        ftype = self.catalog.type_of(fdef)
        target = ftype.reference_target(fdef)
        if target is not None:
            # a value holding several ids (many-to-many) is a list of records
            many = ftype.value_schema.get("type") == "array"
            return Many(target) if many else One(target)
        lines = child_entity(self.catalog, fdef)
        if lines is not None:
            return Many(lines.name)
        if ftype.refers_to_users:
            return USER
        return None

    def _related(self, name: str, line: int) -> Kind:
        owners = {owner.name for owner, _ in related_fields(self.catalog, self._root)}
        if name not in owners:
            problem = (
                msg("related.{name}: no field of '{name}' links to {root} (related lists here: "
                    "{shown}).", name=name, root=self._root.name, shown=", ".join(sorted(owners)))
                if owners else
                msg("related.{name}: no field of '{name}' links to {root} (related lists here: "
                    "none).", name=name, root=self._root.name)
            )
            self._report.problems.append(Problem(line, problem))
            return None
        if self._report.related is not None:
            self._report.related.add(name)
        self._report.entities.add(name)
        return Many(name)


def child_entity(catalog: Catalog, fdef: FieldDef) -> EntityDef | None:
    """The entity of a child table's lines, for a field that holds lines; else None."""
    lines = catalog.type_of(fdef).line_entity(fdef, catalog)
    return lines if lines is not None and lines.child else None


def related_fields(catalog: Catalog, entity: EntityDef) -> Iterator[tuple[EntityDef, FieldDef]]:
    """The link fields of other entities (not child lines) that point at ``entity``."""
    for owner, fdef in catalog.fields_targeting(entity):
        if owner.removed or fdef.removed or owner.child:
            continue
        ftype = catalog.type_of(fdef)
        if ftype.reference_target(fdef) == entity.name and ftype.source_column(fdef):
            yield owner, fdef
