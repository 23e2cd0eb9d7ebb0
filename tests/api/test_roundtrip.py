"""Every field type through the API: write → read → export text → import gives the same value.

One entity gets a field of every registered type (with the type's own sample
options), so a new type is covered the day it is registered. Values come from each
type's ``fake_value`` and, in the property test, from its hypothesis strategy.
"""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from PIL import Image

from recordbase.fields import builtin_registry
from recordbase.model import FieldDef

REGISTRY = builtin_registry()
PLACEHOLDERS = {"__target__": "targets", "__child__": "lines"}


def field_specs() -> list[dict[str, Any]]:
    specs = []
    for ftype in REGISTRY:
        options = {
            key: PLACEHOLDERS.get(value, value) if isinstance(value, str) else value
            for key, value in ftype.sample_options().items()
        }
        specs.append({"name": f"f_{ftype.name}", "type": ftype.name, "options": options})
    return specs


@pytest.fixture
def everything(client: FlaskClient, admin: dict[str, str]) -> dict[str, Any]:
    for body in (
        {"name": "targets", "fields": [{"name": "name", "type": "text"}]},
        {
            "name": "lines",
            "child": True,
            "fields": [{"name": "note", "type": "text"}, {"name": "qty", "type": "integer"}],
        },
        {"name": "everything", "fields": field_specs()},
    ):
        response = client.post("/api/v1/entities", json=body, headers=admin)
        assert response.status_code == 201, response.json
    targets = [
        client.post("/api/v1/records/targets", json={"name": f"t{i}"}, headers=admin).json["id"]
        for i in range(3)
    ]
    png = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(png, "PNG")
    image = client.post(
        "/api/v1/files", data={"file": (io.BytesIO(png.getvalue()), "logo.png")}, headers=admin
    ).json["id"]
    document = client.post(
        "/api/v1/files", data={"file": (io.BytesIO(b"%PDF-1.4"), "a.pdf")}, headers=admin
    ).json["id"]
    return {"targets": targets, "image": image, "file": document}


def writable(app: Flask) -> list[FieldDef]:
    catalog = app.extensions["recordbase"].cache.current()
    return [f for f in catalog.entity("everything").fields if not catalog.type_of(f).read_only]


def with_references(values: dict[str, Any], refs: dict[str, Any], rnd: random.Random) -> None:
    """Values for the types whose fakes cannot invent a record or a file."""
    values["f_link"] = rnd.choice(refs["targets"])
    values["f_many_to_many"] = rnd.sample(refs["targets"], rnd.randint(0, 3))
    values["f_file"] = refs["file"]
    values["f_image"] = refs["image"]
    values["f_user"] = 1
    values["f_child_table"] = [{"note": "Строка ✓", "qty": rnd.randint(-5, 5)}]


def check_round_trip(
    client: FlaskClient, headers: dict[str, str], app: Flask, values: dict[str, Any]
) -> None:
    created = client.post("/api/v1/records/everything", json=values, headers=headers)
    assert created.status_code == 201, (created.json, values)
    read = client.get(f"/api/v1/records/everything/{created.json['id']}", headers=headers).json
    for fdef in writable(app):
        ftype = REGISTRY.get(fdef.type)
        got = read[fdef.name]
        if fdef.name == "f_child_table":
            assert [{k: line[k] for k in ("note", "qty")} for line in got] == values[fdef.name]
            continue
        assert got == values[fdef.name], fdef.type
        text = ftype.export_value(fdef, got)
        assert isinstance(text, str)
        assert ftype.import_value(fdef, text) == got, (fdef.type, text)


def test_fake_values_round_trip(
    client: FlaskClient, admin: dict[str, str], app: Flask, everything: dict[str, Any]
) -> None:
    rnd = random.Random(7)
    for _ in range(5):
        values = {f.name: REGISTRY.get(f.type).fake_value(f, rnd) for f in writable(app)}
        with_references(values, everything, rnd)
        check_round_trip(client, admin, app, values)


def test_every_registered_type_is_in_the_entity(
    client: FlaskClient, admin: dict[str, str], everything: dict[str, Any]
) -> None:
    fields = client.get("/api/v1/entities/everything", headers=admin).json["fields"]
    assert sorted(f["type"] for f in fields) == sorted(REGISTRY.names())


@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_values_round_trip(
    client: FlaskClient,
    admin: dict[str, str],
    app: Flask,
    everything: dict[str, Any],
    data: st.DataObject,
) -> None:
    values = {}
    for fdef in writable(app):
        values[fdef.name] = data.draw(REGISTRY.get(fdef.type).strategy(fdef), label=fdef.name)
    with_references(values, everything, random.Random(data.draw(st.integers(0, 1000))))
    check_round_trip(client, admin, app, values)
