"""Filter operators: each a small object that turns (column, value) into SQL.

Values arrive already parsed by the field's type, so nothing here sees raw text
from a request; ``contains`` and friends escape LIKE wildcards so a user's ``%``
or ``_`` match themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from recordbase.errors import RegistryError

MAX_IN_VALUES = 500


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Operator:
    name: ClassVar[str] = ""
    #: "one" value, a "list" of values, a "pair" (between), or a "flag" (true/false)
    arity: ClassVar[str] = "one"
    label: ClassVar[str] = ""

    def compile(self, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        raise NotImplementedError


class Eq(Operator):
    name, label = "eq", "equals"

    def compile(self, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        return column.is_(None) if value is None else column == value


class Ne(Operator):
    name, label = "ne", "does not equal"

    def compile(self, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        if value is None:
            return column.is_not(None)
        return sa.or_(column != value, column.is_(None))


class Lt(Operator):
    name, label = "lt", "less than"

    def compile(self, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        result: sa.ColumnElement[bool] = column < value
        return result


class Lte(Operator):
    name, label = "lte", "at most"

    def compile(self, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        result: sa.ColumnElement[bool] = column <= value
        return result


class Gt(Operator):
    name, label = "gt", "greater than"

    def compile(self, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        result: sa.ColumnElement[bool] = column > value
        return result


class Gte(Operator):
    name, label = "gte", "at least"

    def compile(self, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        result: sa.ColumnElement[bool] = column >= value
        return result


class Between(Operator):
    name, label, arity = "between", "between", "pair"

    def compile(self, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        low, high = value
        return sa.and_(column >= low, column <= high)


class In(Operator):
    name, label, arity = "in", "is one of", "list"

    def compile(self, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        return column.in_(list(value))


class IsNull(Operator):
    name, label, arity = "isnull", "is empty", "flag"

    def compile(self, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        return column.is_(None) if value else column.is_not(None)


class CaseInsensitiveLike(sa.ColumnElement[bool]):
    """Case-insensitive contains / starts with / ends with.

    PostgreSQL: ``ILIKE``. SQLite: its built-in ``LIKE`` already ignores case,
    but only for ASCII letters, so an ASCII needle uses it (fast, no function call
    per row, where SQLAlchemy's generic ``ilike`` would add ``lower()`` on both
    sides) and any other needle (Cyrillic, Armenian…) goes through ``rb_match``,
    a Unicode case-folding function registered on every SQLite connection.
    """

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True

    def __init__(self, column: sa.ColumnElement[Any], needle: str, mode: str) -> None:
        self.column = column
        self.needle = needle
        self.mode = mode

    @property
    def pattern(self) -> str:
        return LIKE_PATTERNS[self.mode].format(escape_like(self.needle))


LIKE_PATTERNS = {"contains": "%{}%", "startswith": "{}%", "endswith": "%{}"}


def sqlite_match(value: str | None, needle: str | None, mode: str | None) -> bool | None:
    """The Unicode-aware SQLite side of ``CaseInsensitiveLike`` (registered as rb_match)."""
    if value is None or needle is None:
        return None
    haystack, wanted = str(value).casefold(), needle.casefold()
    if mode == "startswith":
        return haystack.startswith(wanted)
    if mode == "endswith":
        return haystack.endswith(wanted)
    return wanted in haystack


@compiles(CaseInsensitiveLike)
def _compile_ilike(element: CaseInsensitiveLike, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.ilike(element.pattern, escape="\\"), **kw)


@compiles(CaseInsensitiveLike, "sqlite")
def _compile_like_sqlite(element: CaseInsensitiveLike, compiler: SQLCompiler, **kw: Any) -> str:
    if element.needle.isascii():
        return compiler.process(element.column.like(element.pattern, escape="\\"), **kw)
    call = sa.func.rb_match(element.column, element.needle, element.mode)
    return compiler.process(call == 1, **kw)


class _Like(Operator):
    def compile(self, column: sa.ColumnElement[Any], value: Any) -> sa.ColumnElement[bool]:
        return CaseInsensitiveLike(column, str(value), self.name)


class Contains(_Like):
    name, label = "contains", "contains"


class StartsWith(_Like):
    name, label = "startswith", "starts with"


class EndsWith(_Like):
    name, label = "endswith", "ends with"


class OperatorRegistry:
    def __init__(self, *operators: Operator) -> None:
        self._ops: dict[str, Operator] = {}
        for op in operators:
            if op.name in self._ops:
                raise RegistryError("operator", op.name, duplicate=True)
            self._ops[op.name] = op

    def get(self, name: str) -> Operator:
        try:
            return self._ops[name]
        except KeyError:
            raise RegistryError("operator", name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._ops

    def __iter__(self) -> Iterator[Operator]:
        return iter(self._ops.values())


OPERATORS = OperatorRegistry(
    Eq(),
    Ne(),
    Lt(),
    Lte(),
    Gt(),
    Gte(),
    Between(),
    In(),
    IsNull(),
    Contains(),
    StartsWith(),
    EndsWith(),
)
