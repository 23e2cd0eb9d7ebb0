"""Every field type's print placeholder prints in the sandbox, for a filled and an empty record.

One entity gets a field of every registered type (links and many-to-many to a
target entity, a child table of lines, a user, stored files); the palette offers
each field's ``print_placeholder`` snippet, and the print preview renders them.
A filled field must print something; an empty one must print without failing.
"""

from __future__ import annotations

import io
import random
import re
from typing import Any

import pytest
from PIL import Image

from recordbase.fields import builtin_registry
from recordbase.fields.base import FieldType
from recordbase.printing.palette import build_palette
from recordbase.runtime import Runtime
from recordbase.users import User

TARGETS = {"link": "targets", "many_to_many": "targets", "child_table": "lines"}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (3, 2), "blue").save(out, "PNG")
    return out.getvalue()


def _options(ftype: FieldType) -> dict[str, Any]:
    options = ftype.sample_options()
    if "target" in options:
        options["target"] = TARGETS[ftype.name]
    return options


def _schema(rt: Runtime) -> list[FieldType]:
    rt.schema.create_entity({"name": "targets", "title_field": "title",
                             "fields": [{"name": "title", "type": "text"}]})
    rt.schema.create_entity({"name": "lines", "child": True,
                             "fields": [{"name": "note", "type": "text"}]})
    types = list(rt.cache.current().registry)
    rt.schema.create_entity({"name": "kinds", "fields": [
        {"name": f"f_{t.name}", "type": t.name, "options": _options(t)} for t in types
    ]})
    return types


def _filled(rt: Runtime, types: list[FieldType], user: User) -> dict[str, Any]:
    catalog = rt.cache.current()
    entity = catalog.entity("kinds")
    target = rt.records.create("targets", {"title": "Цель один"})["id"]
    made = {
        "link": target,
        "many_to_many": [target],
        "child_table": [{"note": "строка"}],
        "user": user.id,
        "file": rt.files.store("a.txt", b"text", user_id=None).id,
        "image": rt.files.store("a.png", _png(), user_id=None).id,
    }
    rnd = random.Random(7)
    values: dict[str, Any] = {}
    for ftype in types:
        fdef = entity.field(f"f_{ftype.name}")
        if ftype.read_only:
            continue  # Recordbase fills it (numbers, stamps, authors)
        value = made.get(ftype.name)
        while value is None or ftype.empty(value):
            value = ftype.fake_value(fdef, rnd)
        values[fdef.name] = value
    return values


def _printed(rt: Runtime, record_id: int, user: User) -> dict[str, str]:
    """Each field's placeholder as printed, by field name."""
    catalog = rt.cache.current()
    record = next(g for g in build_palette(catalog, catalog.entity("kinds"), None)
                  if g.kind == "record")
    names = [item.hint.split(" ")[0].removeprefix("record.") for item in record.items]
    assert sorted(names) == sorted(f.name for f in catalog.entity("kinds").fields)
    body = "\n".join(f'<p id="{name}">{item.snippet}</p>'
                     for name, item in zip(names, record.items, strict=True))
    document = rt.prints.preview("kinds", {"body": body}, [record_id], "html", user)
    html = document.content.decode() if isinstance(document.content, bytes) else document.content
    return {m["name"]: m["text"].strip()
            for m in re.finditer(r'<p id="(?P<name>f_\w+)">(?P<text>.*?)</p>', html, re.S)}


def test_every_types_placeholder_prints_a_filled_and_an_empty_value(runtime: Runtime) -> None:
    types = _schema(runtime)
    user = runtime.users.create("printer", "printer-password-1", role="admin",
                                name="Пётр Печатников")
    filled = runtime.records.create("kinds", _filled(runtime, types, user), actor=user)["id"]
    empty = runtime.records.create("kinds", {}, actor=user)["id"]
    printed = _printed(runtime, filled, user)
    assert set(printed) == {f"f_{t.name}" for t in types}
    blank = sorted(name for name, text in printed.items() if not text)
    assert blank == [], f"these types print nothing for a value: {blank}"
    assert printed["f_user"] == printed["f_created_by"] == "Пётр Печатников"
    assert printed["f_link"] == printed["f_many_to_many"] == "Цель один"
    assert printed["f_image"].startswith('<img src="data:image/png;base64,')
    assert set(_printed(runtime, empty, user)) == set(printed)


@pytest.mark.parametrize("name", ["user", "created_by", "updated_by", "link", "text"])
def test_only_user_fields_may_own_records(name: str) -> None:
    ftype = builtin_registry().get(name)
    # created_by is what a row rule without an owner field already means
    assert ftype.can_own_records == (name == "user")
    assert ftype.refers_to_users == (name in ("user", "created_by", "updated_by"))
