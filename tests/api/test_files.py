"""Uploads: types come from the bytes, names are cleaned, downloads never render."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from PIL import Image


def upload(client: FlaskClient, headers: dict[str, str], data: bytes, name: str) -> object:
    return client.post("/api/v1/files", data={"file": (io.BytesIO(data), name)}, headers=headers)


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (3, 2), "blue").save(out, "PNG")
    return out.getvalue()


def test_image_upload_and_download(client: FlaskClient, admin: dict[str, str]) -> None:
    response = upload(client, admin, png_bytes(), "../../etc/логотип.png")
    assert response.status_code == 201, response.json
    assert response.json["name"] == "логотип.png"
    assert response.json["content_type"] == "image/png"
    got = client.get(f"/api/v1/files/{response.json['id']}", headers=admin)
    assert got.status_code == 200
    assert got.data == png_bytes()
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment")


def test_a_fake_image_is_not_an_image(client: FlaskClient, admin: dict[str, str]) -> None:
    html = b"<html><script>alert(1)</script></html>"
    response = upload(client, admin, html, "evil.png")
    assert response.status_code == 201
    assert response.json["content_type"] == "application/octet-stream"
    svg = upload(client, admin, b"<svg onload='alert(1)'/>", "x.svg")
    assert svg.json["content_type"] == "application/octet-stream"
    page = upload(client, admin, html, "page.html")
    got = client.get(f"/api/v1/files/{page.json['id']}?inline=1", headers=admin)
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in got.headers["Content-Security-Policy"]


def test_an_image_field_refuses_other_files(client: FlaskClient, admin: dict[str, str]) -> None:
    client.post(
        "/api/v1/entities",
        json={"name": "people", "fields": [{"name": "photo", "type": "image"}]},
        headers=admin,
    )
    text = upload(client, admin, b"hello", "a.txt").json["id"]
    response = client.post("/api/v1/records/people", json={"photo": text}, headers=admin)
    assert response.status_code == 422
    assert "not an image" in response.json["errors"]["photo"]
    missing = client.post("/api/v1/records/people", json={"photo": 999}, headers=admin)
    assert missing.status_code == 422


def test_bad_uploads(client: FlaskClient, admin: dict[str, str]) -> None:
    assert upload(client, admin, b"", "empty.txt").status_code == 422
    assert upload(client, admin, b"x", "...").status_code == 422
    none = client.post("/api/v1/files", data={}, headers=admin)
    assert none.status_code == 422
    assert client.get("/api/v1/files/12345", headers=admin).status_code == 404
    assert client.post("/api/v1/files", data={"file": (io.BytesIO(b"x"), "a")}).status_code == 401
