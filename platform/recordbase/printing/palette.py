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
from recordbase.printing import lint, sandbox

#: how a value of these types reads best in a print (anything else: ``show()``)
PLAIN_TYPES = frozenset(
    {"text", "long_text", "autonumber", "email", "phone", "url", "integer"}
)
FORMATTED_TYPES = {"money": "money", "date": "date", "datetime": "date"}
#: the QR helpers' requisites, taken from the company card's field of that name if it has one
QR_REQUISITES = (
    ("name", ("full_name", "short_name", "name")),
    ("account", ("account",)),
    ("bank_name", ("bank_name",)),
    ("bic", ("bic",)),
    ("corr_account", ("corr_account",)),
    ("inn", ("inn",)),
)


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
        return groups

    # --- fields ------------------------------------------------------------------------

    def _items(self, entity: EntityDef, var: str) -> list[Item]:
        return [self._item(fdef, var) for fdef in entity.fields]

    def _item(self, fdef: FieldDef, var: str) -> Item:
        ftype = self.catalog.type_of(fdef)
        value = f"{var}.{fdef.name}"
        if ftype.reference_target(fdef) is not None and _many(self.catalog, fdef):
            snippet = (f"{{% for x in {value} %}}{{{{ x }}}}{{% if not loop.last %}}, "
                       "{% endif %}{% endfor %}")
        elif lint.child_entity(self.catalog, fdef) is not None:
            snippet = f"{{{{ {value}|length }}}}"
        elif lint.points_at_users(self.catalog, fdef):
            snippet = f'{{{{ {value}.name if {value} else "" }}}}'
        elif fdef.type in FORMATTED_TYPES:
            snippet = f"{{{{ {FORMATTED_TYPES[fdef.type]}({value}) }}}}"
        elif fdef.type == "image":
            snippet = f'{{{{ image({value}, width="40mm") }}}}'
        elif fdef.type in PLAIN_TYPES or ftype.reference_target(fdef) is not None:
            snippet = f"{{{{ {value} }}}}"
        else:
            snippet = f'{{{{ show({var}, "{fdef.name}") }}}}'
        return Item(fdef.label, snippet, f"{value} · {fdef.type}")

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
        money = self._first(entity, ("money", "decimal"))
        amount = f"{subject}.{money.name}" if money else "1234.5"
        lines = next((f for f in entity.fields if lint.child_entity(self.catalog, f)), None)
        lines_expr = f"{subject}.{lines.name}" if lines else "[]"
        first = entity.fields[0].name if entity.fields else "id"
        image_field = self._first(entity, ("image",))
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

    def _first(self, entity: EntityDef, types: tuple[str, ...]) -> FieldDef | None:
        return next((f for f in entity.fields if f.type in types), None)

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
