"""The field-type base class: one class owns everything about one type.

A field type knows its SQL column type, how JSON input is validated (a marshmallow
field), how a stored value is written back out as JSON, which filter operators it
offers and how they compile, how it converts to and from the text of an
export/import file, how it is displayed and printed, which widget edits it, and
how to invent test values for it. Services ask the type; they never branch on a
type's name.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from recordbase.errors import ConversionError, ValidationError
from recordbase.messages import Recogniser, joined, known, msg
from recordbase.model import EntityDef, FieldDef

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from recordbase.catalog import Catalog


class NoOptions(ma.Schema):
    """Options schema of a type that takes no options."""

    class Meta:
        unknown = ma.RAISE


class FieldType:
    """Base of all field types. Subclasses set ``name`` and override what differs."""

    #: snake-case type name used in metadata, the API and configuration files
    name: ClassVar[str] = ""
    #: the form widget that edits the value (a template under templates/widgets/)
    widget: ClassVar[str] = "text"
    #: filter operators offered, by name (see ``recordbase.records.operators``)
    operators: ClassVar[tuple[str, ...]] = ("eq", "ne", "in", "isnull")
    #: whether the value lives in a column of the entity's own table named after the field id
    owns_column: ClassVar[bool] = True
    #: values are produced by Recordbase (autonumbers, timestamps); input is refused
    read_only: ClassVar[bool] = False
    #: included in the quick search (``q=``)
    searchable: ClassVar[bool] = False
    sortable: ClassVar[bool] = True
    can_be_unique: ClassVar[bool] = True
    can_be_indexed: ClassVar[bool] = True
    can_have_default: ClassVar[bool] = True
    #: the types whose fields this type's fields can be changed into (same type: always)
    converts_to: ClassVar[frozenset[str]] = frozenset()
    #: the column is indexed whatever the field says (links: their foreign key)
    always_indexed: ClassVar[bool] = False
    #: the column gets a unique index whatever the field says (autonumbers)
    always_unique: ClassVar[bool] = False
    options_schema: ClassVar[type[ma.Schema]] = NoOptions
    #: JSON Schema of a value, used by the OpenAPI document
    value_schema: ClassVar[Mapping[str, Any]] = {"type": "string"}
    #: values are numbers: they can be summed, multiplied and computed (see
    #: ``recordbase.fields.computed``; the type's options then include ``NumericOptions``)
    numeric: ClassVar[bool] = False
    #: a child-table column of this type is summed in the footer unless ``total: false``
    total_by_default: ClassVar[bool] = False
    #: values are ids of users (``rb_users``): a print gets them as users
    #: ({id, login, name, role}) and template checks follow them as such
    refers_to_users: ClassVar[bool] = False
    #: a field of this type may name a record's owner in a role's row rule
    can_own_records: ClassVar[bool] = False
    #: the print helper that formats a value of this type (``money``, ``date``);
    #: None: ``print_placeholder`` decides how a value prints
    print_helper: ClassVar[str | None] = None

    # --- options -----------------------------------------------------------------

    def clean_options(self, options: Mapping[str, Any], catalog: Catalog) -> dict[str, Any]:
        """Validate and normalise a field's type options; raise ValidationError naming the key."""
        try:
            cleaned: dict[str, Any] = self.options_schema().load(dict(options))
        except ma.ValidationError as exc:
            raise ValidationError(
                msg(
                    "The options of a {type} field are not valid: {problem}",
                    type=self.name, problem=_flatten(exc.messages),
                ),
                fields={"options": _flatten(exc.messages)},
            ) from exc
        return cleaned

    def totals(self, field: FieldDef) -> bool:
        """Whether a child-table column of this field is summed (the ``total`` option)."""
        return self.numeric and bool(field.options.get("total", self.total_by_default))

    def decimal_places(self, field: FieldDef) -> int:
        """Digits after the decimal point of a numeric value (computed values round to it)."""
        return 0

    def line_entity(self, field: FieldDef, catalog: Catalog) -> EntityDef | None:
        """The entity holding the lines of a child table; None for every other type."""
        return None

    # --- storage -----------------------------------------------------------------

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define column_type")

    def columns(self, field: FieldDef, catalog: Catalog) -> list[sa.Column[Any]]:
        """The physical columns this field adds to its entity's table."""
        if not self.owns_column:
            return []
        return [sa.Column(field.column, self.column_type(field), nullable=True)]

    def columns_in_target(self, field: FieldDef, owner: EntityDef) -> list[sa.Column[Any]]:
        """Columns this field adds to the table of the entity it targets (child tables)."""
        return []

    def source_column(self, field: FieldDef) -> str | None:
        """The column of the entity's table a value is read from (None: read by ``load``)."""
        return field.column if self.owns_column else None

    def extra_tables(
        self, field: FieldDef, entity: EntityDef, catalog: Catalog, metadata: sa.MetaData
    ) -> list[sa.Table]:
        """Tables of the field's own (junction tables); most types have none."""
        return []

    def index_columns(self, field: FieldDef) -> list[str]:
        col = self.source_column(field)
        return [col] if col else []

    # --- values ------------------------------------------------------------------

    def value_field(self, field: FieldDef) -> ma.fields.Field[Any]:
        """A marshmallow field that turns JSON input into the Python value to store."""
        raise NotImplementedError(f"{type(self).__name__} must define value_field")

    def parse_input(self, conn: sa.Connection, field: FieldDef, catalog: Catalog, raw: Any) -> Any:
        """API JSON → the value to store; raises marshmallow's or our ValidationError."""
        return self.to_db(field, self.value_field(field).deserialize(raw))

    def to_db(self, field: FieldDef, value: Any) -> Any:
        """Python value (from ``value_field``) to what is bound for the column."""
        return value

    def to_json(self, field: FieldDef, value: Any) -> Any:
        """A stored value to its JSON form."""
        return value

    def json_converter(self, field: FieldDef) -> Callable[[Any], Any]:
        """``to_json`` for one field, made once per page: a type whose conversion
        needs per-field preparation (a decimal's quantum) does it here, not per cell."""
        return functools.partial(self.to_json, field)

    def empty(self, value: Any) -> bool:
        return value is None or value == ""

    def default_for(self, field: FieldDef) -> Any:
        """The JSON value a new record gets when the caller leaves the field out."""
        return field.default

    def storage_compatible(self, old: FieldDef, new: FieldDef) -> bool:
        """Whether a column made for ``old`` already stores ``new`` (same type, new options)
        without rewriting any row; PostgreSQL may still need an ALTER ... TYPE."""
        if old.type != new.type or not self.owns_column:
            return False
        return repr(self.column_type(old)) == repr(self.column_type(new))

    def convert_value(
        self, field: FieldDef, source_type: FieldType, source: FieldDef, value: Any
    ) -> Any:
        """A JSON value of another field (``source``) as a JSON value of this field.

        The default goes through the exchange text of both types; a type overrides
        this where it knows better. Raises ConversionError with the reason.
        """
        return self.import_value(field, source_type.export_value(source, value))

    # --- relations and generated values (types that override these say so) --------

    def generate(self, conn: sa.Connection, field: FieldDef, entity: EntityDef) -> Any:
        """A value Recordbase assigns on insert (autonumbers); None when the type has none."""
        return None

    def load(
        self, conn: sa.Connection, field: FieldDef, catalog: Catalog, ids: Sequence[int]
    ) -> dict[int, Any]:
        """JSON values of a field that has no column of its own, for a page of records."""
        return {}

    def save(
        self, conn: sa.Connection, field: FieldDef, catalog: Catalog, record_id: int, value: Any
    ) -> None:
        """Write the value of a field that has no column of its own."""

    def reference_target(self, field: FieldDef) -> str | None:
        """The entity whose records this field's values point at (links), else None."""
        return None

    #: its column holds the id of one record of ``reference_target`` (a link): a page of
    #: records reads the titles of those records in its own statement
    column_is_reference: ClassVar[bool] = False

    def referenced_ids(self, field: FieldDef, value: Any) -> list[int]:
        """The record ids a JSON value points at, for showing their titles."""
        return []

    def check_references(
        self, conn: sa.Connection, field: FieldDef, catalog: Catalog, value: Any
    ) -> str | None:
        """A sentence when a value refers to something that does not exist, else None."""
        return None

    # --- filtering -----------------------------------------------------------------

    def filter_value(self, field: FieldDef, op: str, raw: Any) -> Any:
        """Parse the value of a filter from its query-string text into a bindable value."""
        try:
            return self.to_db(field, self.value_field(field).deserialize(raw))
        except ma.ValidationError as exc:
            raise ConversionError(_flatten(exc.messages)) from exc

    def compile_filter(
        self, field: FieldDef, column: sa.ColumnElement[Any], op: str, value: Any
    ) -> sa.ColumnElement[bool]:
        from recordbase.records.operators import OPERATORS

        return OPERATORS.get(op).compile(column, value)

    # --- exchange and display ------------------------------------------------------

    def export_value(self, field: FieldDef, value: Any) -> str:
        """The JSON value as the text of a CSV or spreadsheet cell ('' for empty)."""
        return "" if value is None else str(value)

    def import_value(self, field: FieldDef, text: str) -> Any:
        """A cell's text back to a JSON value; raise ConversionError with the reason."""
        if text == "":
            return None
        try:
            return self.to_json(field, self.to_db(field, self.value_field(field).deserialize(text)))
        except ma.ValidationError as exc:
            raise ConversionError(_flatten(exc.messages)) from exc

    def display(self, field: FieldDef, value: Any, locale: str = "en") -> str:
        """Human text for a list cell or a printout."""
        return self.export_value(field, value)

    def print_placeholder(self, field: FieldDef, record: str) -> str:
        """The Jinja snippet that prints this field of ``record`` in a print template.

        ``record`` is an expression naming a record of the field's entity (``record``,
        ``line``, ``record.client``); the template editor's palette inserts the snippet.
        The default prints the value through the type's ``print_helper`` if it has one,
        else as the record card shows it (``show()``: choice labels, grouped digits).
        """
        if self.print_helper is not None:
            return f"{{{{ {self.print_helper}({record}.{field.name}) }}}}"
        return f'{{{{ show({record}, "{field.name}") }}}}'

    # --- test data -------------------------------------------------------------------

    def fake_value(self, field: FieldDef, rnd: random.Random) -> Any:
        """A plausible valid JSON value, for demo data, benchmarks and contract tests."""
        raise NotImplementedError(f"{type(self).__name__} must define fake_value")

    def strategy(self, field: FieldDef) -> SearchStrategy[Any]:
        """A hypothesis strategy of valid JSON values (imported lazily: tests only)."""
        raise NotImplementedError(f"{type(self).__name__} must define strategy")

    def sample_options(self) -> dict[str, Any]:
        """Options that make a valid field of this type, for contract tests."""
        return {}


def plain_placeholder(field: FieldDef, record: str) -> str:
    """A placeholder that prints the value as it is (texts, ids, whole numbers, links' titles)."""
    return f"{{{{ {record}.{field.name} }}}}"
# Sentences marshmallow formats itself (its own and the ``error=`` texts of our validators):
# recognised after the fact so the web can translate them.
LIBRARY_SENTENCES = Recogniser([
    known("Missing data for required field."),
    known("Field may not be null."),
    known("Invalid value."),
    known("Not a valid string."),
    known("Not a valid utf-8 string."),
    known("Not a valid integer."),
    known("Not a valid number."),
    known("Number too large."),
    known("Special numeric values (nan or infinity) are not permitted."),
    known("Not a valid boolean."),
    known("Not a valid list."),
    known("Not a valid mapping type."),
    known("Invalid type."),
    known("Invalid input type."),
    known("Unknown field."),
    known("Not a valid email address."),
    known("Not a valid URL."),
    known("String does not match expected pattern."),
    known("Must be one of: {choices}."),
    known("Length must be between {min} and {max}."),
    known("Length must be {equal}."),
    known("Longer than maximum length {max}."),
    known("Shorter than minimum length {min}."),
    known("Must be greater than or equal to {min} and less than or equal to {max}."),
    known("Must be greater than or equal to {min}."),
    known("Must be less than or equal to {max}."),
    known("At most {count} characters."),
    known("At most {count} linked records."),
    known("A field name."),
    known("Not a valid e-mail address."),
    known("Between {min} and {max} MB."),
    known("An extension is 1 to 10 letters or digits."),
    known("The number must be between {min} and {max}."),
    known("A record id is a positive integer."),
    known("The currency is a three-letter ISO 4217 code in capitals, such as RUB or USD."),
    known("A choice value has 1 to 100 characters."),
    known("Give between 1 and {count} choices."),
    known("Not a valid web address: it starts with http:// or https:// and names a site."),
    known(
        "Not a valid date and time: write it in ISO 8601, for example 2026-11-27T09:41:00+03:00."
    ),
    known("The date and time is outside the years 1 to 9999 once converted to UTC."),
    known("Not a valid date: write it as YYYY-MM-DD, for example 2026-11-27."),
    known('A choice is a text or an object such as {{"value": "new", "label": "New"}}.'),
    known("Use true or false."),
    known("Not a whole number."),
])


def _flatten(messages: Any) -> str:
    """Marshmallow's nested message structure as one sentence (a Message: translatable)."""
    if isinstance(messages, str):
        return LIBRARY_SENTENCES(messages)
    if isinstance(messages, Mapping):
        parts = []
        for key, value in messages.items():
            text = _flatten(value)
            parts.append(
                text if key == "_schema" else msg("{field}: {problem}", field=key, problem=text)
            )
        return joined(parts)
    if isinstance(messages, list | tuple):
        return joined(_flatten(m) for m in messages)
    return str(messages)


flatten_messages = _flatten
