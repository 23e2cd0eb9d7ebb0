"""Licence keys, tiers, demo launches, the free tier's refusals and downgrades."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from tests.security.conftest import PASSWORD, VendorKeys, make_user, rt_of, sign_in

from recordbase import db, systables
from recordbase.cli import main
from recordbase.errors import LicenceRestriction, ValidationError
from recordbase.licence import (
    DEMO_LAUNCHES,
    PACKAGED_PUBLIC_KEY,
    TIERS,
    generate_key_pair,
    issue_key,
    load_public_key,
    verify_key,
)
from recordbase.runtime import Runtime

CONFIG = Path(__file__).resolve().parents[2] / "sample_configs" / "sales_crm"


# --- keys (no database) -------------------------------------------------------------


def test_tiers_follow_the_design_table() -> None:
    expected = {
        "free": (1, 1, False),
        "simple": (3, 3, True),
        "extended": (6, 6, True),
        "professional": (9, 9, True),
        "premium": (12, 12, True),
        "unlimited": (None, None, True),
    }
    assert {n: (t.seats, t.users, t.structure_editing) for n, t in TIERS.items()} == expected


def test_the_packaged_public_key_is_a_real_ed25519_key_and_no_private_key_is_shipped() -> None:
    load_public_key(PACKAGED_PUBLIC_KEY)
    package = PACKAGED_PUBLIC_KEY.parent
    assert not any("PRIVATE" in p.read_text(errors="ignore") for p in package.glob("*.p*"))


def test_an_issued_key_verifies_and_says_what_it_licenses(vendor_pair: VendorKeys) -> None:
    key = issue_key(vendor_pair.private_pem, tier="extended", licensee="Ромашка ООО")
    public = load_public_key(vendor_pair.public_path)
    licence = verify_key(key, public)
    assert (licence.tier, licence.licensee) == ("extended", "Ромашка ООО")
    assert licence.issued_at.endswith("Z")
    # pasted with line breaks and spaces: still the same key
    assert verify_key(f"  {key[:40]}\n{key[40:]}  ", public).id == licence.id


def _tamper(key: str) -> str:
    body, sig = key.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["tier"] = "unlimited"
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=") + "." + sig


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_tamper, "signature does not match"),
        (lambda k: k[: len(k) // 2], "incomplete"),
        (lambda k: k[:-10], "truncated"),
        (lambda k: k.replace(".", ""), "incomplete"),
        (lambda k: "not a key at all", "incomplete"),
        (lambda k: k + "!", "damaged"),
        (lambda k: "x" * 5000, "longer"),
    ],
)
def test_damaged_keys_are_rejected_with_a_reason(
    vendor_pair: VendorKeys, damage: Any, reason: str
) -> None:
    key = issue_key(vendor_pair.private_pem, tier="simple", licensee="A")
    with pytest.raises(ValidationError) as caught:
        verify_key(damage(key), load_public_key(vendor_pair.public_path))
    assert reason in caught.value.message
    assert "did not change" in caught.value.message


def test_a_key_of_another_vendor_is_rejected(vendor_pair: VendorKeys, tmp_path: Path) -> None:
    other_private, _ = generate_key_pair(tmp_path / "other")
    key = issue_key(other_private.read_bytes(), tier="premium", licensee="Pirate")
    with pytest.raises(ValidationError, match="not issued by this product's vendor"):
        verify_key(key, load_public_key(vendor_pair.public_path))


def test_issuing_refuses_unknown_tiers_and_empty_licensees(vendor_pair: VendorKeys) -> None:
    with pytest.raises(ValidationError, match="tier"):
        issue_key(vendor_pair.private_pem, tier="free", licensee="A")
    with pytest.raises(ValidationError, match="licensee"):
        issue_key(vendor_pair.private_pem, tier="simple", licensee="  ")


# --- the licence in force -------------------------------------------------------------


def test_status_api_in_demo_then_licensed(
    client: FlaskClient, admin: dict[str, str], app: Flask, vendor: VendorKeys
) -> None:
    status = client.get("/api/v1/license", headers=admin).json
    assert status == {
        "tier": "demo",
        "licensee": None,
        "seats": None,
        "seats_used": 1,
        "users": 2,
        "users_max": None,
        "structure_editing": True,
        "demo_launches_left": DEMO_LAUNCHES,
    }
    response = client.post(
        "/api/v1/license", json={"key": vendor.issue("simple", "Acme")}, headers=admin
    )
    assert response.status_code == 200, response.json
    assert response.json["tier"] == "simple"
    assert response.json["licensee"] == "Acme"
    assert (response.json["seats"], response.json["users_max"]) == (3, 3)
    assert response.json["demo_launches_left"] == 0


def test_a_rejected_key_leaves_the_tier_as_it_was(
    client: FlaskClient, admin: dict[str, str], vendor: VendorKeys, tmp_path: Path
) -> None:
    assert client.post(
        "/api/v1/license", json={"key": vendor.issue("extended")}, headers=admin
    ).status_code == 200
    other_private, _ = generate_key_pair(tmp_path / "other")
    foreign = issue_key(other_private.read_bytes(), tier="unlimited", licensee="X")
    good = vendor.issue("premium")
    for bad in (_tamper(good), good[:-5], foreign, ""):
        response = client.post("/api/v1/license", json={"key": bad}, headers=admin)
        assert response.status_code == 422, bad
        assert "rejected" in response.json["detail"] or "key" in response.json["detail"]
    assert client.get("/api/v1/license", headers=admin).json["tier"] == "extended"


def test_only_admins_install_licences(
    client: FlaskClient, user: dict[str, str], vendor: VendorKeys
) -> None:
    response = client.post("/api/v1/license", json={"key": vendor.issue("simple")}, headers=user)
    assert response.status_code == 403
    assert client.post("/api/v1/license/end-demo", headers=user).status_code == 403


def test_demo_lasts_sixty_launches_then_the_free_tier(runtime: Runtime) -> None:
    for _ in range(DEMO_LAUNCHES):
        state = runtime.licence.count_launch()
    assert state.tier.name == "demo"
    assert state.demo_launches_left == 0
    state = runtime.licence.count_launch()
    assert state.tier.name == "free"
    with pytest.raises(LicenceRestriction, match="free tier"):
        runtime.schema.create_entity({"name": "things", "fields": []})


def test_end_demo_and_install(runtime: Runtime, vendor: VendorKeys) -> None:
    runtime.licence.end_demo()
    assert runtime.licence.state().tier.name == "free"
    runtime.licence.install(vendor.issue("professional"))
    state = runtime.licence.state()
    assert (state.tier.name, state.demo_launches_left) == ("professional", 0)
    runtime.schema.create_entity({"name": "things", "fields": []})


def test_an_edited_licence_row_does_not_raise_the_tier(
    runtime: Runtime, vendor: VendorKeys
) -> None:
    runtime.licence.install(vendor.issue("simple"))
    forged = _tamper(vendor.issue("simple"))
    with db.write(runtime.engine) as conn:
        conn.execute(systables.licence.update().values(key_text=forged))
    runtime.licence._verified.clear()
    assert runtime.licence.state().tier.name == "free"


def _free_tier_app(app: Flask) -> Runtime:
    rt = rt_of(app)
    rt.licence.end_demo()
    return rt


def test_free_tier_refuses_structure_changes_through_the_api(
    client: FlaskClient, admin: dict[str, str], app: Flask
) -> None:
    assert client.post(
        "/api/v1/entities", json={"name": "things", "fields": []}, headers=admin
    ).status_code == 201
    _free_tier_app(app)
    attempts = [
        ("post", "/api/v1/entities", {"name": "more", "fields": []}),
        ("post", "/api/v1/entities/things/fields", {"name": "a", "type": "text"}),
        ("patch", "/api/v1/entities/things", {"label": "Thing"}),
        ("delete", "/api/v1/entities/things", None),
    ]
    for method, url, body in attempts:
        response = getattr(client, method)(url, json=body, headers=admin)
        assert response.status_code == 403, (url, response.json)
        assert response.json["title"] == "Not allowed by the licence"
        assert "free tier" in response.json["detail"]
    assert client.get("/api/v1/license", headers=admin).json["structure_editing"] is False


def _cli(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["--database", db_url, *args], catch_exceptions=False)


def test_free_tier_refuses_structure_changes_from_the_cli_and_config_apply(
    db_url: str, tmp_path: Path
) -> None:
    assert _cli(db_url, "init", "--config", str(CONFIG)).exit_code == 0
    assert _cli(db_url, "license", "end-demo").exit_code == 0
    out = _cli(db_url, "schema", "add-field", "clients", '{"name": "x", "type": "text"}')
    assert out.exit_code != 0
    assert "free tier" in out.output
    exported = tmp_path / "export"
    assert _cli(db_url, "config", "export", str(exported)).exit_code == 0
    clients = exported / "metadata" / "clients.yaml"
    clients.write_text(clients.read_text().replace("label: Client\n", "label: Customer\n", 1))
    out = _cli(db_url, "config", "apply", str(exported), "--yes")
    assert out.exit_code != 0
    assert "free tier" in out.output


def test_cli_license_commands(db_url: str, vendor: VendorKeys, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    out = _cli(db_url, "license", "keygen", "--out", str(keys))
    assert out.exit_code == 0, out.output
    assert (keys / "licence_private.pem").stat().st_mode & 0o077 == 0
    # a key signed with the new pair is foreign to the verifier (which trusts `vendor`)
    foreign = _cli(
        db_url, "license", "issue", "--private-key", str(keys / "licence_private.pem"),
        "--tier", "simple", "--licensee", "Acme",
    )
    assert foreign.exit_code == 0
    assert _cli(db_url, "init", "--config", str(CONFIG)).exit_code == 0
    status = _cli(db_url, "license", "status")
    assert "demo mode" in status.output
    refused = _cli(db_url, "license", "install", foreign.output.strip())
    assert refused.exit_code != 0
    assert "rejected" in refused.output
    issued = _cli(
        db_url, "license", "issue", "--private-key", str(vendor.private_path),
        "--tier", "extended", "--licensee", "Acme",
    )
    installed = _cli(db_url, "license", "install", issued.output.strip())
    assert installed.exit_code == 0, installed.output
    assert "extended licence of Acme" in installed.output
    status = _cli(db_url, "license", "status")
    assert "Seats: 0 of 6 in use" in status.output
    assert "Users: 1 of 6" in status.output


def test_cli_runs_count_launches_but_license_commands_do_not(db_url: str) -> None:
    assert _cli(db_url, "init", "--config", str(CONFIG)).exit_code == 0
    before = _cli(db_url, "license", "status").output
    assert f"Demo launches left: {DEMO_LAUNCHES}" in before
    _cli(db_url, "users", "list")
    _cli(db_url, "users", "list")
    after = _cli(db_url, "license", "status").output
    assert f"Demo launches left: {DEMO_LAUNCHES - 2}" in after


def test_users_beyond_the_tier_are_refused_and_a_downgrade_deletes_nobody(
    client: FlaskClient, admin: dict[str, str], app: Flask, licensed: Any
) -> None:
    make_user(client, admin, "anna")  # admin, user, anna: 3
    licensed("simple")
    response = client.post(
        "/api/v1/admin/users", json={"login": "bob", "password": PASSWORD}, headers=admin
    )
    assert response.status_code == 403
    assert "simple tier allows 3 active users" in response.json["detail"]
    # a "downgrade" to free: one user; the others stay, inactive until a place exists
    rt = rt_of(app)
    with db.write(rt.engine) as conn:
        conn.execute(systables.licence.update().values(key_text=None, demo_ended=True))
    users = client.get("/api/v1/admin/users", headers=admin).json["items"]
    assert [(u["login"], u["licensed"]) for u in users] == [
        ("admin", True), ("user", False), ("anna", False),
    ]
    refused = sign_in(client, "anna")
    assert refused.status_code == 403
    assert "beyond" in refused.json["detail"]
    licensed("extended")
    assert sign_in(client, "anna").status_code == 201


def test_reactivating_a_user_counts_against_the_tier(
    client: FlaskClient, admin: dict[str, str], licensed: Any
) -> None:
    anna = make_user(client, admin, "anna")
    licensed("simple")
    url = f"/api/v1/admin/users/{anna['id']}"
    assert client.patch(url, json={"active": False}, headers=admin).status_code == 200
    make_user(client, admin, "bob")
    response = client.patch(url, json={"active": True}, headers=admin)
    assert response.status_code == 403
    assert "3 active users" in response.json["detail"]
