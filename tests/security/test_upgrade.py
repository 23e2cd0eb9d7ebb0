"""A database made before users, rights and licences existed opens and works."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from recordbase import db, systables
from recordbase.app import create_app
from recordbase.cli import main
from recordbase.users import UserService

NEW_TABLES = {
    "rb_licence", "rb_settings", "rb_roles", "rb_permissions", "rb_field_permissions",
    "rb_sign_in_attempts", "rb_audit",
}
NEW_COLUMNS = {
    "rb_users.group_name", "rb_users.password_changed_at", "rb_sessions.name",
    "rb_sessions.ended_reason",
}


def _old_schema(url: str) -> None:
    old = sa.MetaData()
    for table in systables.system_metadata.sorted_tables:
        if table.name in NEW_TABLES:
            continue
        columns = [
            c._copy() for c in table.columns if f"{table.name}.{c.name}" not in NEW_COLUMNS
        ]
        sa.Table(table.name, old, *columns)
    engine = db.make_engine(url)
    try:
        hasher = UserService(engine, hash_profile="cheapest").hasher
        with db.write(engine) as conn:
            old.create_all(conn)
            conn.execute(
                sa.insert(old.tables["rb_meta_version"]).values(
                    id=1, version=1, changed_at=systables.utcnow()
                )
            )
            conn.execute(
                sa.insert(old.tables["rb_users"]).values(
                    login="admin", name="Admin", role="admin", active=True,
                    password_hash=hasher.hash("admin-password-123"),
                    created_at=systables.utcnow(),
                )
            )
    finally:
        engine.dispose()


def test_an_old_database_is_upgraded_on_launch(db_url: str) -> None:
    _old_schema(db_url)
    result = CliRunner().invoke(main, ["--database", db_url, "users", "list"])
    assert result.exit_code == 0, result.output
    assert "admin" in result.output
    app = create_app({"DATABASE_URL": db_url, "TESTING": True})
    try:
        client = app.test_client()
        response = client.post(
            "/api/v1/auth/token", json={"username": "admin", "password": "admin-password-123"}
        )
        assert response.status_code == 201, response.json
        headers = {"Authorization": f"Bearer {response.json['token']}"}
        status = client.get("/api/v1/license", headers=headers).json
        assert (status["tier"], status["demo_launches_left"]) == ("demo", 59)
        roles = client.get("/api/v1/admin/roles", headers=headers).json["items"]
        assert [r["name"] for r in roles] == ["admin", "user"]
    finally:
        app.extensions["recordbase"].dispose()


def test_record_launch_counts_and_upgrades_with_a_bare_engine(db_url: str) -> None:
    from recordbase.licence import LicenceService
    from recordbase.runtime import record_launch

    engine = db.make_engine(db_url)
    try:
        record_launch(engine)  # an empty database: nothing happens
        assert not sa.inspect(engine).has_table("rb_licence")
    finally:
        engine.dispose()
    _old_schema(db_url)
    engine = db.make_engine(db_url)
    try:
        record_launch(engine)
        record_launch(engine)
        assert LicenceService(engine).state().launches == 2
    finally:
        engine.dispose()
