"""The template editor's palette: placeholders for an entity, built from what a print gets.

Every group follows the context ``PrintService`` builds and ``RecordLoader``
fills (``recordbase.printing.context``): ``record`` (or ``records`` for a list
printout) with its fields, its links followed one step (``record.client.inn``),
its child-table lines and many-to-many lists as loops, the related lists
(``related.payments``, the same ``related_fields`` the loader reads), the company
card, the current user (the linter's ``USER_KEYS``), ``today`` and every helper
the sandbox installs (``sandbox.make_helpers``). A snippet that must stand inside
a loop says so with ``wrap``; the editor's tests render every snippet, wrapped,
for a demo record, so the palette cannot offer what a print would refuse.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from markupsafe import escape

from recordbase.catalog import Catalog
from recordbase.model import EntityDef, FieldDef
from recordbase.printing import files as template_files
from recordbase.printing import lint, sandbox

#: the QR helpers' requisites, taken from the company card's field of that name if it has one
QR_REQUISITES = (
    ("name", ("full_name", "short_name", "name")),
    ("account", ("account",)),
    ("bank_name", ("bank_name",)),
    ("bic", ("bic",)),
    ("corr_account", ("corr_account",)),
    ("inn", ("inn",)),
)
#: the line fields the items table prints unless told otherwise (its macro's defaults)
ITEM_COLUMNS = ("description", "quantity", "unit", "price", "amount")
#: the company card's fields the bank block prints (it has no defaults for missing ones)
BANK_FIELDS = ("bank_name", "bic", "corr_account", "account", "inn", "kpp", "full_name",
               "short_name")
PARTIAL_SUFFIX = ".html.j2"


@dataclass(frozen=True)
class Item:
    """One placeholder: what the button says and what it inserts."""

    label: str
    snippet: str
    hint: str = ""


@dataclass(frozen=True)
class Group:
    """Placeholders of one source; ``wrap`` is the loop its items belong inside."""

    kind: str  # record, records, linked, lines, many, related, company, user, today, helpers
    subject: str
    items: tuple[Item, ...]
    wrap: tuple[str, str] = ("", "")
    loop: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class PaletteBuilder:
    def __init__(self, catalog: Catalog, company_entity: str | None) -> None:
        self.catalog = catalog
        self.company = catalog.entities.get(company_entity or "")
        if self.company is not None and self.company.removed:
            self.company = None

    def build(self, entity: EntityDef, scope: str = "record") -> list[Group]:
        groups: list[Group] = []
        if scope == "list":
            groups.append(self._loop_group("records", entity.label_plural, "records", "row",
                                           entity))
        else:
            groups.append(Group("record", entity.label, tuple(self._items(entity, "record"))))
            groups.extend(self._linked(entity, "record"))
            groups.extend(self._related(entity))
        if self.company is not None:
            groups.append(Group("company", self.company.label,
                                tuple(self._items(self.company, "company"))))
        groups.append(Group("user", "user", tuple(
            Item(key, f"{{{{ user.{key} }}}}", key) for key in sorted(lint.USER_KEYS)
        )))
        groups.append(Group("today", "today", (
            Item("today", "{{ date(today) }}", "date"),
            Item("today (long)", '{{ date(today, "long") }}', "date"),
        )))
        groups.append(Group("helpers", "helpers", tuple(self._helpers(entity, scope))))
        groups.append(Group("partials", "partials", tuple(self._partials(entity, scope))))
        return groups

    # --- fields ------------------------------------------------------------------------

    def _items(self, entity: EntityDef, var: str) -> list[Item]:
        return [self._item(fdef, var) for fdef in entity.fields]

    def _item(self, fdef: FieldDef, var: str) -> Item:
        snippet = self.catalog.type_of(fdef).print_placeholder(fdef, var)
        return Item(fdef.label, snippet, f"{var}.{fdef.name} · {fdef.type}")

    def _linked(self, entity: EntityDef, var: str) -> list[Group]:
        groups: list[Group] = []
        for fdef in entity.fields:
            ftype = self.catalog.type_of(fdef)
            target = ftype.reference_target(fdef)
            lines = lint.child_entity(self.catalog, fdef)
            value = f"{var}.{fdef.name}"
            if lines is not None:
                groups.append(self._loop_group("lines", fdef.label, value, "line", lines))
            elif target is not None and _many(self.catalog, fdef):
                groups.append(self._loop_group("many", fdef.label, value, "x",
                                               self.catalog.entity(target)))
            elif target is not None:
                linked = self.catalog.entity(target)
                items = []
                for item in self._items(linked, value):
                    if not fdef.required:  # an empty link has no fields to print
                        item = Item(item.label, f"{{% if {value} %}}{item.snippet}{{% endif %}}",
                                    item.hint)
                    items.append(item)
                groups.append(Group("linked", fdef.label, tuple(items),
                                    extra={"target": linked.label}))
        return groups

    def _related(self, entity: EntityDef) -> list[Group]:
        groups: list[Group] = []
        seen: set[str] = set()
        for owner, _fdef in lint.related_fields(self.catalog, entity):
            if owner.name in seen:
                continue
            seen.add(owner.name)
            groups.append(self._loop_group("related", owner.label_plural,
                                           f"related.{owner.name}", "item", owner))
        return groups

    def _loop_group(self, kind: str, subject: str, source: str, var: str,
                    entity: EntityDef) -> Group:
        fields = [f for f in entity.fields if lint.child_entity(self.catalog, f) is None]
        items = tuple(self._item(f, var) for f in fields)
        head = "".join(f"<th>{escape(f.label)}</th>" for f in fields)
        cells = "".join(f"<td>{item.snippet}</td>" for item in items)
        loop = (
            f'<table class="rb-items">\n  <tr><th>№</th>{head}</tr>\n'
            f"  {{% for {var} in {source} %}}\n"
            f"  <tr><td>{{{{ loop.index }}}}</td>{cells}</tr>\n"
            "  {% endfor %}\n</table>\n"
        )
        return Group(kind, subject, items, (f"{{% for {var} in {source} %}}", "{% endfor %}"),
                     loop)

    # --- helpers -----------------------------------------------------------------------

    def _helpers(self, entity: EntityDef, scope: str) -> list[Item]:
        examples = self._examples(entity, scope)
        names = sandbox.make_helpers("ru", dt.date.today())["globals"]
        return [Item(name, examples[name], name) for name in sorted(names) if name != "today"]

    def _examples(self, entity: EntityDef, scope: str) -> dict[str, str]:
        """An example call of each helper that prints for any record of ``entity``."""
        subject = "record" if scope == "record" else "records[0]"
        money = self._printed_with(entity, "money") or next(
            (f for f in entity.fields if self.catalog.type_of(f).numeric), None)
        amount = f"{subject}.{money.name}" if money else "1234.5"
        lines = next((f for f in entity.fields if lint.child_entity(self.catalog, f)), None)
        lines_expr = f"{subject}.{lines.name}" if lines else "[]"
        first = entity.fields[0].name if entity.fields else "id"
        image_field = self._printed_with(entity, "image")
        requisites = ", ".join(f"{key}={value}" for key, value in self._requisites())
        return {
            "money": f"{{{{ money({amount}) }}}}",
            "number": f"{{{{ number({amount}, 2) }}}}",
            "date": '{{ date(today, "long") }}',
            "amount_in_words": f"{{{{ amount_in_words({amount}) }}}}",
            "vat_totals": (f"{{% set totals = vat_totals({lines_expr}, rate=22, "
                           'mode="included") %}{{ money(totals.vat) }}'),
            "vat_rates": f"{{{{ vat_rates(vat_totals({lines_expr}, rate=22).rates) }}}}",
            "qr_payload": f"{{{{ qr_payload({requisites}, amount={amount}) }}}}",
            "payment_qr": f'{{{{ payment_qr(size="30mm", {requisites}, amount={amount}) }}}}',
            "show": f'{{{{ show({subject}, "{first}") }}}}',
            "label": f'{{{{ label({subject}, "{first}") }}}}',
            "fields": (f"{{% for f in fields({subject}) %}}{{{{ f.label }}}}: {{{{ f.text }}}}"
                       "<br>{% endfor %}"),
            "title": f"{{{{ title({subject}) }}}}",
            "image": (f'{{{{ image({subject}.{image_field.name}, width="40mm") }}}}'
                      if image_field else "{{ image(none) }}"),
            "file_uri": "{{ file_uri(1) }}",
            "initials": "{{ initials(user.name) }}",
        }

    # --- partials ----------------------------------------------------------------------

    def _partials(self, entity: EntityDef, scope: str) -> list[Item]:
        """Every built-in partial the sandbox offers, imported and called (its macro is
        named like its file); where no call would print for this entity (or the palette
        knows none), the item only imports it."""
        examples = self._partial_examples(entity, scope)
        items: list[Item] = []
        for source in sorted(template_files.partials()):
            name = source.removeprefix(sandbox.PARTIAL_PREFIX).removesuffix(PARTIAL_SUFFIX)
            imported = f'{{% from "{source}" import {name} %}}'
            items.append(Item(name, imported + examples.get(name, ""), source))
        return items

    def _partial_examples(self, entity: EntityDef, scope: str) -> dict[str, str]:
        """A call of each partial's macro that prints for a record of ``entity``."""
        subject = "record" if scope == "record" else "records[0]"
        party = "company" if self.company is not None else subject
        examples: dict[str, str] = {}
        if all(self._company_has(name) for name in BANK_FIELDS):
            examples["bank_block"] = "{{ bank_block(company) }}"
        lines = next((f for f in entity.fields if lint.child_entity(self.catalog, f)), None)
        lines_entity = lint.child_entity(self.catalog, lines) if lines is not None else None
        # the items table reads its columns by name: without them it gets no lines
        fits = lines_entity is not None and all(lines_entity.has_field(c) for c in ITEM_COLUMNS)
        lines_expr = f"{subject}.{lines.name}" if lines is not None and fits else "[]"
        rate = "company.vat_rate" if self._company_has("vat_rate") else "none"
        mode = ('company.vat_mode or "included"' if self._company_has("vat_mode")
                else '"included"')
        signers = ('[(label(company, "director"), company.director)]'
                   if self._company_has("director") else '[("", user.name)]')
        stamp = ", company.stamp" if self._company_has("stamp") else ""
        return {
            **examples,
            "items_table": (f"{{% set totals = vat_totals({lines_expr}, rate={rate}, "
                            f"mode={mode}) %}}{{{{ items_table(totals) }}}}"),
            "requisites": f"{{{{ requisites({party}) }}}}",
            "signatures": f"{{{{ signatures({signers}{stamp}) }}}}",
        }

    def _company_has(self, name: str) -> bool:
        return self.company is not None and self.company.has_field(name)

    def _printed_with(self, entity: EntityDef, helper: str) -> FieldDef | None:
        """The first field of ``entity`` whose type prints through ``helper``."""
        return next((f for f in entity.fields
                     if self.catalog.type_of(f).print_helper == helper), None)

    def _requisites(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for key, candidates in QR_REQUISITES:
            found = next((c for c in candidates
                          if self.company is not None and self.company.has_field(c)), None)
            out.append((key, f"company.{found}" if found else '"-"'))
        return out


def _many(catalog: Catalog, fdef: FieldDef) -> bool:
    return catalog.type_of(fdef).value_schema.get("type") == "array"


def build_palette(
    catalog: Catalog, entity: EntityDef, company_entity: str | None, scope: str = "record"
) -> list[Group]:
    """The palette of ``entity``'s templates (``scope``: record or list)."""
    return PaletteBuilder(catalog, company_entity).build(entity, scope)
