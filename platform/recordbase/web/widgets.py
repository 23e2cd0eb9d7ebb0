"""The UI half of field types: a widget per ``FieldType.widget`` name.

A field type names its widget; the widget knows how the value appears in a form
(its template ``templates/widgets/<name>.html``), how the posted form text comes
back (then the type's own ``import_value`` turns the text into a JSON value, with
its validation), which filter form fits it and whether a column of it is summed.
Nothing here branches on a field type's name.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage, MultiDict

from recordbase import db, systables
from recordbase.errors import RegistryError
from recordbase.fields.base import FieldType
from recordbase.fields.computed import computation_of
from recordbase.model import FieldDef
from recordbase.runtime import Runtime

FormData = MultiDict[str, str]


@dataclass
class ReadContext:
    """What reading a posted form may need besides the form: uploads and the services."""

    runtime: Runtime
    files: MultiDict[str, FileStorage]
    user_id: int | None


class Widget:
    name: ClassVar[str] = ""
    #: spans both columns of a card
    wide: ClassVar[bool] = False
    #: the widget renders its own fieldset and legend (groups of checkboxes)
    group: ClassVar[bool] = False
    #: a column of it in a child table is summed in the footer
    summable: ClassVar[bool] = False
    #: the filter form of a list column: text, range, choices, link, boolean or none
    filter_kind: ClassVar[str] = "text"
    #: values cannot be typed (autonumbers, timestamps)
    display_only: ClassVar[bool] = False
    input_type: ClassVar[str] = "text"
    #: the input of a range filter's bounds (numbers are typed as text: "1 234,50")
    filter_input: ClassVar[str] = "text"

    def to_text(self, ftype: FieldType, fdef: FieldDef, value: Any) -> str:
        """A stored JSON value as the text of the form control."""
        return ftype.export_value(fdef, value)

    def raw(self, form: FormData, key: str) -> str:
        return form.get(key, "")

    def read(
        self, form: FormData, key: str, ftype: FieldType, fdef: FieldDef, ctx: ReadContext
    ) -> Any:
        """The posted control as a JSON value; ConversionError says why it is not one."""
        return ftype.import_value(fdef, self.normalise(self.raw(form, key)))

    def normalise(self, text: str) -> str:
        return text

    def display(self, ftype: FieldType, fdef: FieldDef, value: Any, locale: str) -> str:
        """The text of a list cell or a read-only value (the type's, unless the widget
        knows better)."""
        return ftype.display(fdef, value, locale)

    def is_blank(self, form: FormData, key: str) -> bool:
        return not self.raw(form, key).strip()

    def filter_ops(self, ftype: FieldType) -> tuple[str, ...]:
        """The operators this widget's filter form uses, when the type offers them."""
        wanted = {
            "text": ("contains",),
            "range": ("gte", "lte"),
            "choices": ("in",),
            "link": ("eq",),
            "boolean": ("eq",),
        }.get(self.filter_kind, ())
        return wanted if all(op in ftype.operators for op in wanted) else ()


class TextWidget(Widget):
    name = "text"


class EmailWidget(Widget):
    name, input_type = "email", "email"


class PhoneWidget(Widget):
    name, input_type = "phone", "tel"


class UrlWidget(Widget):
    name, input_type = "url", "url"


class TextareaWidget(Widget):
    name, wide = "textarea", True


class NumberWidget(Widget):
    name, summable, filter_kind = "number", True, "range"

    def normalise(self, text: str) -> str:
        return text.strip().replace("\u00a0", "").replace(" ", "")


class DecimalWidget(NumberWidget):
    """Decimals typed the local way: "1 234,50" is 1234.50."""

    name = "decimal"

    def normalise(self, text: str) -> str:
        cleaned = super().normalise(text)
        if "," in cleaned and "." not in cleaned:
            cleaned = cleaned.replace(",", ".")
        return cleaned


class MoneyWidget(DecimalWidget):
    name = "money"


class PercentWidget(DecimalWidget):
    name, summable = "percent", False

    def normalise(self, text: str) -> str:
        return super().normalise(text).rstrip("%")


class CheckboxWidget(Widget):
    """A hidden "false" before the checkbox's "true": the last value posted wins."""

    name, filter_kind = "checkbox", "boolean"

    def raw(self, form: FormData, key: str) -> str:
        values = form.getlist(key)
        return values[-1] if values else ""

    def is_blank(self, form: FormData, key: str) -> bool:
        return self.raw(form, key) != "true"


class DateWidget(Widget):
    name, input_type, filter_kind, filter_input = "date", "date", "range", "date"


class DatetimeWidget(Widget):
    """``datetime-local`` in UTC (the types keep UTC; the label says so)."""

    name, input_type, filter_kind = "datetime", "datetime-local", "range"
    filter_input = "datetime-local"

    def to_text(self, ftype: FieldType, fdef: FieldDef, value: Any) -> str:
        if not value:
            return ""
        try:
            moment = dt.datetime.fromisoformat(str(value)).astimezone(dt.UTC)
        except ValueError:
            return str(value)
        return moment.strftime("%Y-%m-%dT%H:%M")


class SelectWidget(Widget):
    name, filter_kind = "select", "choices"


class MultiSelectWidget(Widget):
    name, filter_kind, group = "multi_select", "choices", True

    def filter_ops(self, ftype: FieldType) -> tuple[str, ...]:
        return ("contains",) if "contains" in ftype.operators else ()

    def raw(self, form: FormData, key: str) -> str:
        return "; ".join(v for v in form.getlist(key) if v)


class LinkPickerWidget(Widget):
    name, filter_kind = "link_picker", "link"

    def normalise(self, text: str) -> str:
        return text.strip()


class MultiLinkPickerWidget(LinkPickerWidget):
    """Ids separated by semicolons, each shown with its title."""

    name, wide = "multi_link_picker", True

    def filter_ops(self, ftype: FieldType) -> tuple[str, ...]:
        return ("contains",) if "contains" in ftype.operators else ()


class UserNames:
    """Shows a user id as the user's name (the types only know the id)."""

    def display(self, ftype: FieldType, fdef: FieldDef, value: Any, locale: str) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            name = user_names().get(value)
            if name:
                return name
        return ftype.display(fdef, value, locale)


class UserPickerWidget(UserNames, Widget):
    name, filter_kind = "user_picker", "user"

    def filter_ops(self, ftype: FieldType) -> tuple[str, ...]:
        return ("eq",) if "eq" in ftype.operators else ()


class FileWidget(Widget):
    """A new upload replaces the file; "remove" clears it; otherwise the current id stays."""

    name, filter_kind = "file", "none"

    def read(
        self, form: FormData, key: str, ftype: FieldType, fdef: FieldDef, ctx: ReadContext
    ) -> Any:
        upload = ctx.files.get(key + ".upload")
        if upload is not None and upload.filename:
            from recordbase.files import MAX_FILE_BYTES

            data = upload.read(MAX_FILE_BYTES + 1)
            stored = ctx.runtime.files.store(upload.filename, data, user_id=ctx.user_id)
            return stored.id
        if form.get(key + ".remove") == "true":
            return None
        return ftype.import_value(fdef, form.get(key, "").strip())

    def is_blank(self, form: FormData, key: str) -> bool:
        return not form.get(key, "").strip()


class ImageWidget(FileWidget):
    name = "image"


class ReadonlyTextWidget(Widget):
    name, display_only = "readonly_text", True


class ReadonlyDatetimeWidget(Widget):
    name, display_only, filter_kind = "readonly_datetime", True, "range"
    filter_input = "datetime-local"


class ReadonlyUserWidget(UserNames, Widget):
    name, display_only, filter_kind = "readonly_user", True, "user"

    def filter_ops(self, ftype: FieldType) -> tuple[str, ...]:
        return ("eq",) if "eq" in ftype.operators else ()


class ComputedWidget(Widget):
    """A number Recordbase computes (the ``computed`` option of a numeric field): shown,
    never posted; app.js works it out again as the user types, the server decides."""

    name, display_only, summable, filter_kind = "computed", True, True, "range"


class ChildTableWidget(Widget):
    """Read by ``recordbase.web.forms`` row by row; each cell through its own widget."""

    name, wide, filter_kind = "child_table", True, "none"


@dataclass
class WidgetRegistry:
    widgets: dict[str, Widget] = field(default_factory=dict)

    def register(self, widget: Widget) -> None:
        if widget.name in self.widgets:
            raise RegistryError("widget", widget.name, duplicate=True)
        self.widgets[widget.name] = widget

    def get(self, name: str) -> Widget:
        try:
            return self.widgets[name]
        except KeyError:
            raise RegistryError("widget", name) from None

    def __iter__(self) -> Iterator[Widget]:
        return iter(self.widgets.values())


def builtin_widgets() -> WidgetRegistry:
    registry = WidgetRegistry()
    for cls in (
        TextWidget, EmailWidget, PhoneWidget, UrlWidget, TextareaWidget, NumberWidget,
        DecimalWidget, MoneyWidget, PercentWidget, CheckboxWidget, DateWidget, DatetimeWidget,
        SelectWidget, MultiSelectWidget, LinkPickerWidget, MultiLinkPickerWidget,
        UserPickerWidget, FileWidget, ImageWidget, ReadonlyTextWidget, ReadonlyDatetimeWidget,
        ReadonlyUserWidget, ComputedWidget, ChildTableWidget,
    ):
        registry.register(cls())
    return registry


@functools.cache
def widgets() -> WidgetRegistry:
    """The widget registry, built on first use (nothing happens at import time)."""
    return builtin_widgets()


def widget_for(ftype: FieldType) -> Widget:
    return widgets().get(ftype.widget)


def field_widget(ftype: FieldType, fdef: FieldDef) -> Widget:
    """The widget of one field in a form: its type's, unless the field is computed."""
    if ftype.numeric and computation_of(fdef) is not None:
        return widgets().get(ComputedWidget.name)
    return widget_for(ftype)


def user_choices(runtime: Runtime) -> list[tuple[int, str]]:
    """Active users as (id, name) for user pickers and filters."""
    users = systables.users
    with db.read(runtime.engine) as conn:
        rows = conn.execute(
            sa.select(users.c.id, users.c.name, users.c.login)
            .where(users.c.active.is_(True))
            .order_by(users.c.name, users.c.id)
            .limit(1000)
        ).all()
    return [(int(r.id), str(r.name or r.login)) for r in rows]


def user_names() -> dict[int, str]:
    """Names of the active users by id, read once per request."""
    from flask import current_app, g

    if "user_names" not in g:
        g.user_names = dict(user_choices(current_app.extensions["recordbase"]))
    names: dict[int, str] = g.user_names
    return names

