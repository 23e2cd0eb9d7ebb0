"""The Jinja sandbox print templates run in, with its helpers and limits.

Templates are compiled under internal names (``tpl:<id>`` for the template
itself, ``rb/<file>`` for the built-in partials); a name a consultant typed never
becomes a Jinja template name, so it can neither load a file nor collide with a
partial. The environment is Jinja's immutable sandbox (no attribute starting with
an underscore, no mutation of lists and dicts, no unsafe ``str.format``), with:

- strict undefined names (a misspelt field is an error with its line, not blank);
- ``*`` and ``**`` checked before they run, so ``"x" * 10**9`` and ``9**9**9``
  are refused instead of eating the worker's memory or time;
- output streamed and counted, so a template cannot grow a huge document;
- no globals but the curated helpers; ``range`` is Jinja's bounded one.

The worker process adds what a sandbox cannot (a time limit, a memory limit);
see ``recordbase.printing.worker``.
"""

from __future__ import annotations

import datetime as dt
import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range
from jinja2.utils import Namespace
from markupsafe import Markup, escape

from recordbase.messages import as_data, msg, reason
from recordbase.printing import formats, qr, vat
from recordbase.printing.views import RecordView, display_of, entity_of, title_of

#: the longest string or list ``*`` may build, and the largest exponent ``**`` takes
MAX_REPEAT = 1_000_000
MAX_EXPONENT = 100
PARTIAL_PREFIX = "rb/"
MAIN_PREFIX = "tpl:"
RESOURCE_URI = re.compile(r"rb-(?:file|asset):[A-Za-z0-9_./-]{1,200}")


class OutputTooLarge(Exception):
    """Raised inside the worker when a template's output passes its size limit."""


@dataclass(frozen=True)
class Failure:
    """A template failure as the API reports it: a sentence, and where it happened."""

    message: str
    line: int | None = None
    template: str | None = None
    kind: str = "error"

    def as_json(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "sentence": as_data(self.message),
            "line": self.line,
            "template": self.template,
            "kind": self.kind,
        }


class SourceLoader(BaseLoader):
    """Templates by internal name, from sources handed over in the render job."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self.sources = dict(sources)

    def get_source(
        self, environment: Any, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        if template not in self.sources:
            known = ", ".join(sorted(n for n in self.sources if n.startswith(PARTIAL_PREFIX)))
            raise TemplateNotFound(
                msg("There is no partial named '{name}'; the built-in ones are: {known}.",
                    name=template, known=known)
            )
        return self.sources[template], template, lambda: True


class PrintEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple | Markup)
                    and isinstance(count, int)
                    and len(seq) * count > MAX_REPEAT
                ):
                    raise SecurityError(msg(
                        "Repeating a text or list to more than {count} items is not allowed.",
                        count=MAX_REPEAT,
                    ))
            return left * right
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(
                    msg("Exponents above {limit} are not allowed.", limit=MAX_EXPONENT)
                )
            return left**right
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, RecordView) and not attribute.startswith("_"):
            if attribute in obj:
                return obj[attribute]
            info = entity_of(obj)
            return self.undefined(
                f"{info.label} has no field {attribute!r}.", obj=obj, name=attribute
            )
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, RecordView) and isinstance(argument, str):
            return self.getattr(obj, argument)
        return super().getitem(obj, argument)


def _finalize(value: Any) -> Any:
    # an empty field prints as nothing, not as "None"
    return "" if value is None else value


def make_environment(sources: Mapping[str, str], *, autoescape: bool = True) -> PrintEnvironment:
    env = PrintEnvironment(
        loader=SourceLoader(sources),
        undefined=StrictUndefined,
        autoescape=autoescape,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        cache_size=0,
    )
    # only what a print needs: no lipsum, cycler, joiner or dict from Jinja's defaults
    env.globals.clear()
    env.globals["range"] = safe_range
    env.globals["namespace"] = Namespace
    return env


# --- helpers ---------------------------------------------------------------------------


def field_label(record: Any, name: str) -> str:
    if not isinstance(record, RecordView):
        return str(name)
    info = entity_of(record).field(name)
    return info.label if info else str(name)


def shown(record: Any, name: str) -> str:
    """A field's value as the record card shows it (choice labels, grouped numbers …)."""
    if record is None:
        return ""
    if not isinstance(record, RecordView):
        raise formats.FormatError(msg("show() takes a record and a field name."))
    if name not in record:
        raise formats.FormatError(
            msg("{entity} has no field '{name}'.", entity=entity_of(record).label, name=name)
        )
    return display_of(record, name)


def record_fields(record: Any, skip: Iterable[str] = ()) -> list[dict[str, str]]:
    """Every field of a record as {name, label, type, text}, for generic printouts."""
    if not isinstance(record, RecordView):
        return []
    skipped = set(skip)
    return [
        {"name": f.name, "label": f.label, "type": f.type, "text": display_of(record, f.name)}
        for f in entity_of(record).fields
        if f.name not in skipped
    ]


def record_title(record: Any) -> str:
    return title_of(record) if isinstance(record, RecordView) else ("" if record is None else
                                                                    str(record))


def file_uri(file_id: Any) -> str:
    """``rb-file:<id>``: a stored file, fetched for the PDF by the platform, never by URL."""
    if isinstance(file_id, bool) or not isinstance(file_id, int) or file_id < 1:
        raise formats.FormatError(msg("A stored file is named by its id, a positive integer."))
    return f"rb-file:{file_id}"


def image(file_id: Any, width: str = "", height: str = "") -> Markup:
    """An ``<img>`` of a stored image (a field value holding a file id); '' when empty."""
    if file_id is None:
        return Markup("")
    style = "".join(
        f"{k}: {escape(v)};" for k, v in (("width", width), ("height", height)) if v
    )
    return Markup('<img src="{}" style="{}">').format(file_uri(file_id), style)


def initials(name: Any) -> str:
    """``Петров Пётр Петрович`` → ``Петров П. П.`` (a signature's transcript)."""
    if name is None:
        return ""
    parts = str(name).split()
    if len(parts) < 2:
        return str(name)
    return parts[0] + " " + " ".join(f"{p[0]}." for p in parts[1:3] if p)


def make_helpers(locale: str, today: dt.date) -> dict[str, Any]:
    """The helper functions and filters of one render, defaulting to its locale."""
    words_lang = locale if locale in ("ru", "en") else "ru"

    def money(value: Any, currency: str = "RUB", locale: str = locale, sign: bool = True) -> str:
        return formats.money(value, currency, locale, sign)

    def number(
        value: Any, places: int | None = None, locale: str = locale, trim: bool = False
    ) -> str:
        return formats.number(value, places, locale, trim)

    def date(value: Any, style: str = "short", locale: str = locale) -> str:
        return formats.date(value, style, locale)

    def amount_in_words(value: Any, currency: str = "RUB", lang: str = words_lang) -> str:
        return formats.amount_in_words(value, currency, lang)

    def payment_qr(size: str = "32mm", **requisites: Any) -> Markup:
        payload = qr.payment_payload(**requisites)
        return Markup('<img src="{}" style="width: {}; height: {};">').format(
            qr.qr_png_data_uri(payload), size, size
        )

    functions: dict[str, Any] = {
        "money": money,
        "number": number,
        "date": date,
        "amount_in_words": amount_in_words,
        "vat_totals": vat.vat_totals,
        "vat_rates": vat.describe_rates,
        "qr_payload": qr.payment_payload,
        "payment_qr": payment_qr,
        "show": shown,
        "label": field_label,
        "fields": record_fields,
        "title": record_title,
        "image": image,
        "file_uri": file_uri,
        "initials": initials,
        "today": today,
    }
    filters: dict[str, Any] = {
        "money": money,
        "number": number,
        "date": date,
        "in_words": amount_in_words,
    }
    return {"globals": functions, "filters": filters}


# --- failures ----------------------------------------------------------------------------


def failure_of(exc: BaseException, main: str) -> Failure:
    """What went wrong, in a sentence, with the template line where it happened."""
    if isinstance(exc, TemplateSyntaxError):
        return Failure(msg("Syntax error: {detail}", detail=exc.message or ""), exc.lineno,
                       _shown_name(exc.name, main), "syntax")
    line, where = _template_frame(exc, main)
    if isinstance(exc, UndefinedError):
        return Failure(_undefined_sentence(str(exc)), line, where, "undefined")
    if isinstance(exc, SecurityError):
        return Failure(msg("Not allowed in a print template: {reason}", reason=reason(exc)), line,
                       where, "security")
    if isinstance(exc, TemplateNotFound):
        return Failure(reason(exc), line, where, "syntax")
    if isinstance(exc, OutputTooLarge):
        return Failure(reason(exc), line, where, "limit")
    if isinstance(exc, MemoryError):
        return Failure(msg("The template used more memory than a print may use."), line, where,
                       "limit")
    if isinstance(exc, RecursionError):
        return Failure(msg("The template nests or recurses too deeply."), line, where, "limit")
    if isinstance(exc, formats.FormatError):
        return Failure(reason(exc), line, where, "value")
    text = str(exc) or type(exc).__name__
    return Failure(f"{type(exc).__name__}: {text[:300]}", line, where, "error")


def _undefined_sentence(text: str) -> str:
    match = re.fullmatch(r"'(\w+)' is undefined", text)
    if match:
        return msg("'{name}' is not defined in print templates.", name=match.group(1))
    return text


def _shown_name(name: str | None, main: str) -> str | None:
    if name is None or name == main or name.startswith(MAIN_PREFIX):
        return None
    return name


def _template_frame(exc: BaseException, main: str) -> tuple[int | None, str | None]:
    """The innermost template line in the traceback (Jinja rewrites its frames)."""
    found: tuple[int | None, str | None] = (None, None)
    for frame in traceback.extract_tb(exc.__traceback__):
        name = frame.filename
        if name == main or name.startswith((MAIN_PREFIX, PARTIAL_PREFIX)):
            found = (frame.lineno, _shown_name(name, main))
    return found


def syntax_check(source: str, name: str) -> Failure | None:
    """A syntax error of ``source`` (compiled in a throwaway sandbox), or None."""
    env = make_environment({name: source})
    try:
        env.parse(source, name=name, filename=name)
    except TemplateSyntaxError as exc:
        return failure_of(exc, name)
    except RecursionError:
        return Failure(msg("The template nests too deeply."), None, None, "syntax")
    return None


def parse(source: str, name: str) -> nodes.Template:
    env = make_environment({name: source})
    # the helpers' filters exist when the template runs, so checking it must know them
    env.filters.update(make_helpers("ru", dt.date.today())["filters"])
    return env.parse(source, name=name, filename=name)
