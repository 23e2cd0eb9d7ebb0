"""System tables: metadata, users, sessions, files, sequences and the schema journal.

These are defined once, in code; entity tables are generated from the rows of
``rb_entities`` and ``rb_fields`` (see ``recordbase.catalog``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    PostgreSQL keeps ``timestamptz``; SQLite keeps naive UTC text, and the
    decorator restores the zone on the way out, so both answer the same.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        stamp: dt.datetime = value
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def json_text() -> sa.types.TypeEngine[Any]:
    """JSON kept as text on SQLite and as jsonb on PostgreSQL."""
    from sqlalchemy.dialects import postgresql

    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


system_metadata = sa.MetaData()

meta_version = sa.Table(
    "rb_meta_version",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
)

entities = sa.Table(
    "rb_entities",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(63), nullable=False, unique=True),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("label_plural", sa.String(200), nullable=False),
    sa.Column("directory", sa.Boolean, nullable=False, default=False),
    sa.Column("tree", sa.Boolean, nullable=False, default=False),
    sa.Column("child", sa.Boolean, nullable=False, default=False),
    sa.Column("title_field", sa.String(63), nullable=True),
    sa.Column("position", sa.Integer, nullable=False, default=0),
    sa.Column("removed", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    #: the navigation setting (``NavSetting``): null on entities made before it existed
    sa.Column("nav", json_text(), nullable=True),
)

fields = sa.Table(
    "rb_fields",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "entity_id", sa.Integer, sa.ForeignKey("rb_entities.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(63), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("options", json_text(), nullable=False, default=dict),
    sa.Column("required", sa.Boolean, nullable=False, default=False),
    sa.Column("is_unique", sa.Boolean, nullable=False, default=False),
    sa.Column("indexed", sa.Boolean, nullable=False, default=False),
    sa.Column("default", json_text(), nullable=True),
    sa.Column("help", sa.Text, nullable=False, default=""),
    sa.Column("position", sa.Integer, nullable=False, default=0),
    sa.Column("removed", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.UniqueConstraint("entity_id", "name", name="uq_rb_fields_entity_name"),
)

users = sa.Table(
    "rb_users",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("login", sa.String(150), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False, default=""),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("role", sa.String(40), nullable=False, default="user"),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("password_hash", sa.String(300), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    # the manager's group: the row rule "group" lets a role reach its colleagues' records
    sa.Column("group_name", sa.String(100), nullable=True),
    sa.Column("password_changed_at", UTCDateTime, nullable=True),
)

sessions = sa.Table(
    "rb_sessions",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("rb_users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("address", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("last_seen", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    # a personal API token's name; empty for sign-in sessions
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("ended_reason", sa.String(40), nullable=True),
    sa.Index("ix_rb_sessions_live", "ended_at", "last_seen"),
)

files = sa.Table(
    "rb_files",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("rb_users.id", ondelete="SET NULL")),
)

sequences = sa.Table(
    "rb_sequences",
    system_metadata,
    sa.Column("name", sa.String(120), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

journal = sa.Table(
    "rb_schema_journal",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("rb_users.id", ondelete="SET NULL")),
    sa.Column("operation", sa.String(40), nullable=False),
    sa.Column("entity", sa.String(63), nullable=True),
    sa.Column("field", sa.String(63), nullable=True),
    sa.Column("before", json_text(), nullable=True),
    sa.Column("after", json_text(), nullable=True),
    sa.Column("displaced", json_text(), nullable=True),
    sa.Column("details", json_text(), nullable=True),
    sa.Column("undoable", sa.Boolean, nullable=False, default=True),
    sa.Column("undone_at", UTCDateTime, nullable=True),
    sa.Column("undone_by", sa.Integer, nullable=True),
)

saved_views = sa.Table(
    "rb_saved_views",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("entity", sa.String(63), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column(
        "owner_id", sa.Integer, sa.ForeignKey("rb_users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("shared", sa.Boolean, nullable=False, default=False),
    #: the list's query string (filters, sort, columns, search), as the web list reads it
    sa.Column("query", sa.Text, nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)


# --- security: licence, rights, sign-in throttling, audit ---------------------------
# Owned by the users/rights/licence work (recordbase.licence, access, audit, users).

licence = sa.Table(
    "rb_licence",
    system_metadata,
    # one row (id 1): the installed key, the demo launch count; also the seat lock
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("key_text", sa.Text, nullable=True),
    sa.Column("installed_at", UTCDateTime, nullable=True),
    sa.Column("launches", sa.Integer, nullable=False, default=0),
    sa.Column("demo_ended", sa.Boolean, nullable=False, default=False),
)

settings = sa.Table(
    "rb_settings",
    system_metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("value", json_text(), nullable=True),
)

roles = sa.Table(
    "rb_roles",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(40), nullable=False, unique=True),
    sa.Column("label", sa.String(200), nullable=False, default=""),
    # what the role may do on entities it has no permission row for: "all" or "none"
    sa.Column("default_access", sa.String(10), nullable=False, default="none"),
)

permissions = sa.Table(
    "rb_permissions",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("role_id", sa.Integer, sa.ForeignKey("rb_roles.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("entity_id", sa.Integer, sa.ForeignKey("rb_entities.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("actions", json_text(), nullable=False, default=list),
    # which rows: "all", "own" (owner is the user) or "group" (owner in the user's group)
    sa.Column("row_rule", sa.String(10), nullable=False, default="all"),
    # the rows outside the rule: "read" (read only) or "hidden"
    sa.Column("others", sa.String(10), nullable=False, default="hidden"),
    # a user field naming the owner; None: created_by
    sa.Column("owner_field", sa.String(63), nullable=True),
    sa.UniqueConstraint("role_id", "entity_id", name="uq_rb_permissions_role_entity"),
)

field_permissions = sa.Table(
    "rb_field_permissions",
    system_metadata,
    sa.Column("role_id", sa.Integer, sa.ForeignKey("rb_roles.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("field_id", sa.Integer, sa.ForeignKey("rb_fields.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("access", sa.String(10), nullable=False),  # "hidden" or "read_only"
)

sign_in_attempts = sa.Table(
    "rb_sign_in_attempts",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("login", sa.String(150), nullable=False),
    sa.Column("address", sa.String(64), nullable=True),
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Index("ix_rb_sign_in_attempts_login", "login", "at"),
    sa.Index("ix_rb_sign_in_attempts_address", "address", "at"),
)

audit = sa.Table(
    "rb_audit",
    system_metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("rb_users.id", ondelete="SET NULL")),
    sa.Column("login", sa.String(150), nullable=True),  # kept when the user is deleted
    sa.Column("address", sa.String(64), nullable=True),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("entity", sa.String(63), nullable=True),
    sa.Column("record_id", sa.BigInteger, nullable=True),
    sa.Column("details", json_text(), nullable=True),
    sa.Index("ix_rb_audit_at", "at"),
    sa.Index("ix_rb_audit_record", "entity", "record_id"),
    sa.Index("ix_rb_audit_user", "user_id", "at"),
)

# --- print templates (recordbase.printing) ----------------------------------------
# A template belongs to an entity by id, so renaming the entity costs nothing; its
# content lives in numbered revisions (never updated in place), and ``revision`` on
# the template names the current one. Reverting adds a revision copying an old one.

print_templates = sa.Table(
    "rb_print_templates",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "entity_id", sa.Integer, sa.ForeignKey("rb_entities.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(63), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False, default="html"),
    sa.Column("revision", sa.Integer, nullable=False, default=1),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.UniqueConstraint("entity_id", "name", name="uq_rb_print_templates_entity_name"),
)

print_template_revisions = sa.Table(
    "rb_print_template_revisions",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "template_id",
        sa.Integer,
        sa.ForeignKey("rb_print_templates.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("scope", sa.String(10), nullable=False, default="record"),
    sa.Column("locale", sa.String(10), nullable=False, default="ru"),
    sa.Column("body", sa.Text, nullable=False, default=""),
    sa.Column("css", sa.Text, nullable=False, default=""),
    sa.Column("page", json_text(), nullable=False, default=dict),
    sa.Column("docx", sa.LargeBinary, nullable=True),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("rb_users.id", ondelete="SET NULL")),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("note", sa.String(200), nullable=False, default=""),
    sa.UniqueConstraint("template_id", "number", name="uq_rb_print_template_revisions_number"),
)

# --- layouts (recordbase.layouts) ---------------------------------------------------
# A layout belongs to an entity by id (renaming the entity costs nothing) and to a
# role by name ("" for everyone). Every save adds a numbered version, never updated in
# place; the highest number is the layout in force. A draft is one user's unsaved work
# in the designer, one per entity, kind and role.

layout_versions = sa.Table(
    "rb_layout_versions",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "entity_id", sa.Integer, sa.ForeignKey("rb_entities.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("kind", sa.String(10), nullable=False),  # "form" or "list"
    sa.Column("role", sa.String(40), nullable=False, default=""),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("body", json_text(), nullable=False),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("rb_users.id", ondelete="SET NULL")),
    sa.Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    sa.Column("note", sa.String(200), nullable=False, default=""),
    sa.UniqueConstraint("entity_id", "kind", "role", "number", name="uq_rb_layout_versions_number"),
)

layout_drafts = sa.Table(
    "rb_layout_drafts",
    system_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "entity_id", sa.Integer, sa.ForeignKey("rb_entities.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("role", sa.String(40), nullable=False, default=""),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("rb_users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("body", json_text(), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False, default=utcnow),
    sa.UniqueConstraint("entity_id", "kind", "role", "user_id", name="uq_rb_layout_drafts_owner"),
)
