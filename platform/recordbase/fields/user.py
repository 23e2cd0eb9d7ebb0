"""A user of Recordbase (an assignee, a manager): the id of a row of ``rb_users``."""

from __future__ import annotations

from typing import Any, ClassVar

from recordbase import systables
from recordbase.fields.row_reference import RowReferenceFieldType
from recordbase.messages import msg
from recordbase.model import FieldDef

USER_LABELS = {"en": "User", "ru": "Пользователь", "hy": "Օգտատեր"}


class UserFieldType(RowReferenceFieldType):
    name = "user"
    converts_to: ClassVar[frozenset[str]] = frozenset({"integer"})
    widget = "user_picker"
    operators = ("eq", "ne", "in", "isnull")
    value_schema: ClassVar[dict[str, Any]] = {"type": "integer", "description": "id of a user"}
    referenced = systables.users
    noun: ClassVar[str] = msg("user")
    labels: ClassVar[dict[str, str]] = USER_LABELS
    refers_to_users = True
    can_own_records = True

    def print_placeholder(self, field: FieldDef, record: str) -> str:
        value = f"{record}.{field.name}"  # a print gets the user: {id, login, name, role}
        return f'{{{{ {value}.name if {value} else "" }}}}'
