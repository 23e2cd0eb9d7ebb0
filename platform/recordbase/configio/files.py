"""Reading configuration files: bounded, safe YAML, checked against the JSON Schemas.

Every problem is collected as (file, path inside it, sentence) so one run reports
them all, and nothing is planned or applied while any remains.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from referencing import Registry, Resource

from recordbase.errors import ValidationError
from recordbase.messages import joined, msg, reason

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FILES = 1000
MAX_DEPTH = 32
#: brackets inside quoted text count too, so this is well above MAX_DEPTH
MAX_BRACKETS = 256
BRACKETS = re.compile(r"[\[\]{}]")
#: how many problems the error sentence lists (all of them are in ``fields``)
LISTED_PROBLEMS = 20
SCHEMA_FILES = {
    "entity": "entity.schema.json",
    "field": "field.schema.json",
    "data": "data.schema.json",
}


class FileProblem(Exception):
    """Raised inside this package for one problem with one file; collected by ``Problems``."""

    def __init__(self, file: str, path: str, message: str) -> None:
        super().__init__(msg("{file}: {path}: {problem}", file=file, path=path, problem=message)
                         if path else msg("{file}: {problem}", file=file, problem=message))
        self.file = file
        self.path = path
        self.message = message


@dataclass
class Problems:
    """The problems found so far, raised together as one ValidationError."""

    items: list[FileProblem] = field(default_factory=list)

    def add(self, problem: FileProblem) -> None:
        self.items.append(problem)

    def note(self, file: str, path: str, message: str) -> None:
        self.add(FileProblem(file, path, message))

    def raise_if_any(self, nothing_done: str) -> None:
        if not self.items:
            return
        count = len(self.items)
        listed = joined([reason(p) for p in self.items[:LISTED_PROBLEMS]], "; ")
        if count > LISTED_PROBLEMS:
            listed = msg("{problems}; and {count} more", problems=listed,
                         count=count - LISTED_PROBLEMS)
        stop = "" if str(listed).endswith(".") else "."
        sentence = (
            msg("The configuration has a problem; {nothing_done}: {problems}{stop}",
                nothing_done=nothing_done, problems=listed, stop=stop) if count == 1 else
            msg("The configuration has {count} problems; {nothing_done}: {problems}{stop}",
                count=count, nothing_done=nothing_done, problems=listed, stop=stop)
        )
        raise ValidationError(
            sentence,
            fields={f"{p.file}: {p.path}" if p.path else p.file: p.message for p in self.items},
        )


# --- paths -------------------------------------------------------------------------


def shown_path(path: Path, root: Path) -> str:
    """A file's name as messages show it: relative to the configuration folder."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def json_path(parts: Any) -> str:
    """``fields[2].options.target`` from a sequence of keys and indexes."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def yaml_files(folder: Path, root: Path, problems: Problems) -> list[Path]:
    """The ``*.yaml`` files of a folder, sorted; other extensions of YAML are refused."""
    found: list[Path] = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".yml":
            problems.note(shown_path(path, root), "",
                          msg("name configuration files *.yaml, not *.yml"))
        elif path.suffix == ".yaml":
            found.append(path)
    if len(found) > MAX_FILES:
        problems.note(
            shown_path(folder, root), "",
            msg("holds {count} files; at most {limit} are read", count=len(found), limit=MAX_FILES),
        )
        return []
    return found


# --- YAML ----------------------------------------------------------------------------


def read_yaml(path: Path, shown: str) -> Any:
    """The plain JSON-like content of one YAML file; raises FileProblem saying what is wrong."""
    if path.is_symlink() or not path.is_file():
        raise FileProblem(shown, "", msg("is not a regular file (links are not followed)"))
    raw = _read_bounded(path, shown)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = msg("is not UTF-8 text (byte {byte})", byte=exc.start)
        raise FileProblem(shown, "", problem) from exc
    try:
        _prescan(text, shown)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        problem = (
            msg("is not valid YAML at line {line}: {detail}", line=exc.problem_mark.line + 1,
                detail=str(exc.problem)) if exc.problem_mark else
            msg("is not valid YAML: {detail}", detail=str(exc.problem))
        )
        raise FileProblem(shown, "", problem) from exc
    except yaml.YAMLError as exc:
        raise FileProblem(shown, "", msg("is not valid YAML: {detail}", detail=str(exc))) from exc
    except RecursionError as exc:
        raise FileProblem(shown, "", msg("is nested too deeply")) from exc
    return plain(data, shown, [])


def _read_bounded(path: Path, shown: str) -> bytes:
    too_big = FileProblem(
        shown,
        "",
        msg("is larger than {size} MB, the limit for a configuration file",
            size=MAX_FILE_BYTES // (1024 * 1024)),
    )
    if path.stat().st_size > MAX_FILE_BYTES:
        raise too_big
    with path.open("rb") as fh:
        raw = fh.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise too_big
    return raw


def _prescan(text: str, shown: str) -> None:
    """Refuse what would make the (pure Python) safe loader slow or the document enormous.

    Aliases can expand a small file into a huge document ("billion laughs"); deep flow
    nesting (``[[[[…``) makes PyYAML's scanner quadratic, so the brackets are counted
    first, then the events are read with libyaml where it is installed.
    """
    depth = peak = 0
    for bracket in BRACKETS.findall(text):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        peak = max(peak, depth)
    too_deep = FileProblem(shown, "", msg("is nested more than {depth} levels deep",
                                          depth=MAX_DEPTH))
    if peak > MAX_BRACKETS:
        raise too_deep
    depth = 0
    for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            raise FileProblem(shown, "", msg(
                "uses a YAML alias (line {line}); write the value out instead", line=mark.line + 1
            ) if mark else msg("uses a YAML alias; write the value out instead"))
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise too_deep
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def plain(value: Any, shown: str, path: list[str | int]) -> Any:
    """YAML's values as JSON's: dates become ISO text; sets, bytes and the like are refused."""
    if len(path) > MAX_DEPTH:
        raise FileProblem(shown, json_path(path),
                          msg("is nested more than {depth} levels deep", depth=MAX_DEPTH))
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FileProblem(shown, json_path(path), msg("is not a finite number"))
        return value
    if isinstance(value, dt.date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, list):
        return [plain(item, shown, [*path, i]) for i, item in enumerate(value)]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise FileProblem(
                    shown, json_path(path), msg("has the key {key}, which is not text (quote it)",
                                            key=repr(key))
                )
            out[key] = plain(item, shown, [*path, key])
        return out
    raise FileProblem(
        shown, json_path(path), msg("holds a {kind}, which JSON cannot represent",
                                    kind=type(value).__name__)
    )


# --- JSON Schemas --------------------------------------------------------------------


def schema_dir() -> Path:
    """``metadata/`` at the top of the source tree, where the JSON Schemas live."""
    return Path(__file__).resolve().parents[3] / "metadata"


@lru_cache(maxsize=1)
def _validators() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for kind, name in SCHEMA_FILES.items():
        path = schema_dir() / name
        try:
            schemas[kind] = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValidationError(msg("The JSON Schema {path} cannot be read: {reason}.",
                                      path=str(path), reason=str(exc))) from exc
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values()
    )
    return {
        kind: Draft202012Validator(schema, registry=registry) for kind, schema in schemas.items()
    }


def schema(kind: str) -> Any:
    """The JSON Schema document of ``kind`` (entity, field, data)."""
    return _validators()[kind].schema


def check_schema(kind: str, data: Any, shown: str) -> Iterator[FileProblem]:
    """One problem per place where ``data`` breaks the ``kind`` schema, in document order."""
    errors = sorted(_validators()[kind].iter_errors(data), key=lambda e: _sort_key(e.path))
    for error in errors:
        yield FileProblem(shown, json_path(error.absolute_path), _sentence(error))


def _sort_key(path: Any) -> list[tuple[int, int | str]]:
    return [(0, p) if isinstance(p, int) else (1, str(p)) for p in path]


def _sentence(error: Any) -> str:
    """jsonschema's message, without echoing a long or hostile value back in full."""
    value = error.instance
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "...'"
    if error.validator == "maxLength":
        return msg("is {count} characters long; at most {limit} are allowed", count=len(value),
                   limit=error.validator_value)
    if error.validator == "pattern":
        description = error.schema.get("description")
        if description:
            return msg("{value} is not allowed: {description}", value=shown,
                       description=description)
        return msg("{value} is not allowed: must match {pattern}", value=shown,
                   pattern=error.validator_value)
    if error.validator == "additionalProperties":
        return str(error.message).replace("Additional properties are not allowed", "unknown keys")
    if error.validator == "type":
        return msg("{value} is not of type {kind}", value=shown, kind=repr(error.validator_value))
    return str(error.message) if len(error.message) <= 300 else error.message[:297] + "..."
