"""Sentences that services raise, kept translatable without Flask.

A ``Message`` is a ``str`` whose value is the English sentence, so the API, logs and
tests see plain English; it also keeps its ``template`` and ``params`` so the web can
format the translated template with the same values in the reader's language:

    raise ValidationError(msg("The field {field} is required.", field=fdef.label))

Templates are ``str.format`` templates with named placeholders only (literal braces
doubled); values are formatted as the sentence needs them before they are passed, so
no ``!r`` appears in a template. ``pybabel extract -k msg`` collects the templates.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Gettext = Callable[[str], str]

_FORMATTER = string.Formatter()


class Message(str):
    """An English sentence that remembers its template and parameters."""

    template: str
    params: dict[str, Any]
    translatable: bool

    def __new__(
        cls, template: str, params: Mapping[str, Any] | None = None, *, translatable: bool = True
    ) -> Message:
        values = dict(params or {})
        self = super().__new__(cls, template.format_map(values))
        self.template = template
        self.params = values
        self.translatable = translatable
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.template, self.params, self.translatable))

    def translated(self, gettext: Gettext) -> str:
        """The sentence in the language of ``gettext``; English when the translation's
        placeholders do not match the template's."""
        params = {k: localise(v, gettext) for k, v in self.params.items()}
        text = gettext(self.template) if self.translatable and self.template else self.template
        if text != self.template and placeholders(text) != placeholders(self.template):
            return str(self)
        try:
            return text.format_map(params)
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            return str(self)


def _rebuild(template: str, params: dict[str, Any], translatable: bool) -> Message:
    return Message(template, params, translatable=translatable)


def msg(template: str, /, **params: Any) -> Message:
    """A translatable sentence: ``msg("{field} is required.", field=label)``."""
    return Message(template, params)


def joined(parts: Iterable[str], separator: str = " ") -> Message:
    """Several sentences (Messages or plain text) as one, each translated on its own."""
    items = list(parts)
    escaped = separator.replace("{", "{{").replace("}", "}}")
    template = escaped.join(f"{{p{i}}}" for i in range(len(items)))
    return Message(template, {f"p{i}": part for i, part in enumerate(items)}, translatable=False)


def placeholders(template: str) -> set[str]:
    """The names a template formats; an unparsable template has a name no template has."""
    try:
        return {name for _, name, _, _ in _FORMATTER.parse(template) if name is not None}
    except ValueError:
        return {"\x00unparsable"}


def reason(exc: BaseException) -> str:
    """An exception's sentence, still a Message when it was raised with one."""
    first = exc.args[0] if len(exc.args) == 1 else None
    return first if isinstance(first, Message) else str(exc)


def localise(value: Any, gettext: Gettext) -> Any:
    """Messages anywhere in ``value`` (a sentence, or dicts and lists of them, as in an
    error's ``fields``) translated; everything else as it is."""
    if isinstance(value, Message):
        return value.translated(gettext)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {k: localise(v, gettext) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [localise(v, gettext) for v in value]
    return value


def known(template: str) -> str:
    """Marks a sentence a library formats itself (marshmallow's), for extraction."""
    return template


class Recogniser:
    """Turns the English sentences a library produced back into Messages, so that they
    can be translated: each template's placeholders match any text."""

    def __init__(self, templates: Iterable[str]) -> None:
        self.patterns = [(_pattern(t), t) for t in templates]

    def __call__(self, text: str) -> str:
        if isinstance(text, Message):
            return text
        for pattern, template in self.patterns:
            found = pattern.fullmatch(text)
            if found:
                return Message(template, found.groupdict())
        return text


def _pattern(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    for literal, name, _spec, _conversion in _FORMATTER.parse(template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P<{name}>.+?)")
    return re.compile("".join(parts), re.DOTALL)


def as_data(text: Any) -> Any:
    """A sentence as JSON data (a Message as its template and params), for sending it to
    another process; ``from_data`` turns it back into the same Message."""
    if isinstance(text, Message):
        params = {k: as_data(v) for k, v in text.params.items()}
        return {"template": text.template, "params": params, "translatable": text.translatable}
    return text


def from_data(data: Any) -> Any:
    """The sentence ``as_data`` made: a Message again, or the value as it was."""
    if not isinstance(data, Mapping) or not isinstance(data.get("template"), str):
        return data
    params = data.get("params") if isinstance(data.get("params"), Mapping) else None
    values = {str(k): from_data(v) for k, v in (params or {}).items()}
    try:
        return Message(data["template"], values, translatable=bool(data.get("translatable", True)))
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return str(data["template"])
