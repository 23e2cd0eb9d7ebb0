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
