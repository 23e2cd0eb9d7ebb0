"""Sessions, licence and audit log pages, and the free tier in the structure editor."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from recordbase.audit import AuditFilter
from recordbase.licence import PUBLIC_KEY_ENV, generate_key_pair, issue_key

from .admin_pages import rt_of
from .conftest import Browser

# --- sessions -------------------------------------------------------------------------------


def test_the_admin_sees_who_is_signed_in_and_ends_a_session(
    crm: Flask, admin_web: Browser, user_web: Browser
) -> None:
    page = admin_web.get("/admin/sessions").get_data(as_text=True)
    assert "Ulla User" in page
    assert "Ada Admin" in page
    assert "(this session)" in page
    assert "127.0.0.1" in page
    assert "2 of " not in page or "seats in use" in page
    session_id = next(s["id"] for s in rt_of(crm).users.live_sessions() if s["login"] == "user")
    ended = admin_web.post(f"/admin/sessions/{session_id}/end")
    assert ended.status_code == 303
    assert "The session is ended" in admin_web.get(ended.headers["Location"]).get_data(
        as_text=True
    )
    after = user_web.get("/r/clients/")
    assert after.status_code == 302
    assert "/login" in after.headers["Location"]
    again = admin_web.post(f"/admin/sessions/{session_id}/end")
    assert again.status_code == 404
    assert "already ended" in again.get_data(as_text=True)
    assert admin_web.post("/admin/sessions/99999/end").status_code == 404


# --- licence --------------------------------------------------------------------------------


@pytest.fixture
def vendor_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    private, public = generate_key_pair(tmp_path)
    monkeypatch.setenv(PUBLIC_KEY_ENV, str(public))
    return private.read_bytes()


def test_the_licence_page_shows_the_tier_and_counts(admin_web: Browser) -> None:
    page = admin_web.get("/admin/licence").get_data(as_text=True)
    assert "demo mode: no limits" in page
    assert "Demo launches left" in page
    assert "Yes, end demo mode now" in page
    assert 'name="key"' in page


def test_a_key_is_installed_by_pasting_it(
    crm: Flask, admin_web: Browser, vendor_key: bytes
) -> None:
    key = issue_key(vendor_key, tier="simple", licensee="Acme Ltd")
    response = admin_web.post("/admin/licence", {"key": f"  {key}\n"})
    assert response.status_code == 303
    page = admin_web.get(response.headers["Location"]).get_data(as_text=True)
    assert "The licence is installed." in page
    assert "Acme Ltd" in page
    assert '<dd id="licence-tier">simple</dd>' in page
    assert "End demo mode" not in page
    actions = [e["action"] for e in rt_of(crm).audit.entries(AuditFilter(action="licence"))]
    assert "licence.install" in actions


def test_a_bad_key_is_a_sentence_and_the_tier_stays(
    crm: Flask, admin_web: Browser, vendor_key: bytes
) -> None:
    key = issue_key(vendor_key, tier="premium", licensee="Acme Ltd")
    for text in (key[:-6], key.replace(".", "x", 1), "", "k" * 30_000):
        response = admin_web.post("/admin/licence", {"key": text})
        assert response.status_code == 422, text[:20]
        html = response.get_data(as_text=True)
        assert 'class="message error"' in html
    assert rt_of(crm).licence.state().tier.name == "demo"


def test_ending_demo_mode_needs_the_confirmation(crm: Flask, admin_web: Browser) -> None:
    refused = admin_web.post("/admin/licence/end-demo", {})
    assert refused.status_code == 422
    assert "Tick the box to confirm" in refused.get_data(as_text=True)
    assert rt_of(crm).licence.state().demo
    done = admin_web.post("/admin/licence/end-demo", {"confirm": "true"})
    assert done.status_code == 303
    page = admin_web.get(done.headers["Location"]).get_data(as_text=True)
    assert "Demo mode is over" in page
    assert '<dd id="licence-tier">free</dd>' in page


# --- audit log ------------------------------------------------------------------------------


def test_the_audit_log_filters_and_pages(crm: Flask, admin_web: Browser) -> None:
    rt = rt_of(crm)
    for n in range(60):
        rt.audit.log("export.csv", login="user", entity="clients", details={"n": n})
    page = admin_web.get("/admin/audit/?action=export").get_data(as_text=True)
    assert page.count("<code>export.csv</code>") == 50
    assert "&#34;n&#34;: 59}" in page
    assert "&#34;n&#34;: 9}" not in page
    assert "Older entries" in page
    assert "Newer entries" not in page
    second = admin_web.get("/admin/audit/?action=export&page=2").get_data(as_text=True)
    assert second.count("<code>export.csv</code>") == 10
    assert "&#34;n&#34;: 9}" in second
    assert "Newer entries" in second
    by_user = admin_web.get("/admin/audit/?user=1&action=auth").get_data(as_text=True)
    assert "auth.sign_in" in by_user
    assert "export.csv" not in by_user
    none = admin_web.get("/admin/audit/?entity=payments&action=export").get_data(as_text=True)
    assert "No entries match." in none


def test_the_audit_log_is_read_only_and_checks_its_input(admin_web: Browser) -> None:
    assert admin_web.post("/admin/audit/", {}).status_code == 405
    bad = admin_web.get("/admin/audit/?page=0")
    assert bad.status_code == 422
    assert "The page is a number" in bad.get_data(as_text=True)
    assert admin_web.get("/admin/audit/?user=abc").status_code == 422


# --- the free tier --------------------------------------------------------------------------

FREE = "On the free tier the structure cannot be changed"


def test_the_free_tier_hides_the_structure_controls(crm: Flask, admin_web: Browser) -> None:
    demo = admin_web.get("/structure/clients").get_data(as_text=True)
    assert "Add the field" in demo
    assert FREE not in demo
    rt_of(crm).licence.end_demo()
    assert 'href="/structure/"' not in admin_web.get("/").get_data(as_text=True)
    index = admin_web.get("/structure/").get_data(as_text=True)
    assert FREE in index
    assert "Create the entity" not in index
    entity = admin_web.get("/structure/clients").get_data(as_text=True)
    assert FREE in entity
    for control in ("Add the field", "Remove the entity", "Save the names", ">Remove</button>",
                    ">Change</a>"):
        assert control not in entity, control
    field = admin_web.get("/structure/clients/fields/name").get_data(as_text=True)
    assert FREE in field
    assert 'type="submit" disabled' in field


@pytest.mark.parametrize(
    ("url", "form"),
    [
        ("/structure/entities", {"name": "suppliers"}),
        ("/structure/clients/fields", {"name": "extra", "type": "text"}),
        ("/structure/clients/fields/notes/remove", {}),
        ("/structure/clients", {"label": "Customer"}),
    ],
)
def test_free_tier_changes_are_refused_with_the_sentence(
    crm: Flask, admin_web: Browser, url: str, form: dict[str, str]
) -> None:
    rt_of(crm).licence.end_demo()
    response = admin_web.post(url, form)
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert FREE in html
    assert 'class="message error"' in html
    clients = rt_of(crm).cache.current().entity("clients")
    assert clients.label == "Client"
    assert clients.has_field("notes")
    assert not clients.has_field("extra")
