"""Every registered field type has a widget, and every widget its template and filter form."""

from __future__ import annotations

from pathlib import Path

import pytest

from recordbase.fields import builtin_types
from recordbase.web.widgets import widget_for, widgets

TEMPLATES = Path(__file__).resolve().parents[2] / "platform" / "recordbase" / "templates"


@pytest.mark.parametrize("ftype", builtin_types(), ids=lambda t: t.name)
def test_every_type_has_a_widget_and_its_template(ftype) -> None:
    widget = widget_for(ftype)
    assert widget.name == ftype.widget
    assert (TEMPLATES / "widgets" / f"{ftype.widget}.html").is_file()


@pytest.mark.parametrize("widget", list(widgets()), ids=lambda w: w.name)
def test_every_widget_has_a_filter_form(widget) -> None:
    assert (TEMPLATES / "filters" / f"{widget.filter_kind}.html").is_file()


@pytest.mark.parametrize("ftype", builtin_types(), ids=lambda t: t.name)
def test_filter_forms_only_use_the_types_operators(ftype) -> None:
    assert set(widget_for(ftype).filter_ops(ftype)) <= set(ftype.operators)


def test_views_never_branch_on_a_type_name() -> None:
    web = TEMPLATES.parent / "web"
    names = [t.name for t in builtin_types()]
    for path in [*web.glob("*.py"), *TEMPLATES.rglob("*.html")]:
        text = path.read_text()
        for name in names:
            assert f'== "{name}"' not in text, (path, name)
            assert f"== '{name}'" not in text, (path, name)
