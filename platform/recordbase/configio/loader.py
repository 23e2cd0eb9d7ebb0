"""``load_config``: read ``<config>/metadata/*.yaml`` into a checked ``ConfigSet``.

What a file can say about itself is checked here (its JSON Schema, its name,
reserved names, duplicate fields, the title field); what needs the field-type
registry or the database is checked when the configuration is planned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from recordbase.configio.files import (
    FileProblem,
    Problems,
    check_schema,
    read_yaml,
    shown_path,
    yaml_files,
)
from recordbase.configio.layouts import LayoutFile, read_layouts
from recordbase.errors import ValidationError
from recordbase.messages import msg
from recordbase.names import (
    RESERVED_ENTITY_NAMES,
    RESERVED_FIELD_NAMES,
    check_label,
    check_name,
)

METADATA = "metadata"
NOT_READ = msg("nothing was read")


@dataclass(frozen=True)
class EntityFile:
    """One entity file: where it came from and what it says (already schema-checked)."""

    shown: str
    spec: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    @property
    def position(self) -> int | None:
        value = self.spec.get("position")
        return None if value is None else int(value)

    @property
    def fields(self) -> list[dict[str, Any]]:
        return list(self.spec.get("fields") or [])

    def field_path(self, index: int, *rest: str) -> str:
        return ".".join((f"fields[{index}]", *rest))


@dataclass(frozen=True)
class ConfigSet:
    """The entity files of one configuration folder, by entity name."""

    directory: Path
    entities: Mapping[str, EntityFile]
    #: the layout files of ``form_layouts/`` (recordbase.configio.layouts)
    layouts: tuple[LayoutFile, ...] = ()

    def ordered(self) -> list[EntityFile]:
        """Files by position (files without one last), then by name."""
        return sorted(
            self.entities.values(),
            key=lambda ef: (ef.position is None, ef.position or 0, ef.name),
        )

    def __contains__(self, name: object) -> bool:
        return name in self.entities

    def __iter__(self) -> Iterator[EntityFile]:
        return iter(self.ordered())


def load_config(directory: Path) -> ConfigSet:
    """Read and check every entity file of ``directory``; raise one ValidationError listing all
    problems, each naming its file and the place inside it."""
    root = Path(directory)
    folder = root / METADATA
    if not folder.is_dir():
        raise ValidationError(msg("The configuration folder {folder} has no {metadata}/ folder.",
                                  folder=str(root), metadata=METADATA))
    problems = Problems()
    entities: dict[str, EntityFile] = {}
    for path in yaml_files(folder, root, problems):
        shown = shown_path(path, root)
        try:
            entity = read_entity_file(path, shown, problems)
        except FileProblem as problem:
            problems.add(problem)
            continue
        if entity is not None:
            entities[entity.name] = entity
    if not entities and not problems.items:
        raise ValidationError(msg("The folder {folder} holds no entity files (*.yaml).",
                                  folder=str(folder)))
    layouts = read_layouts(root, problems)
    problems.raise_if_any(NOT_READ)
    return ConfigSet(directory=root, entities=entities, layouts=tuple(layouts))


def read_entity_file(path: Path, shown: str, problems: Problems) -> EntityFile | None:
    data = read_yaml(path, shown)
    if not isinstance(data, dict):
        raise FileProblem(shown, "",
                          msg("must hold one entity: a mapping with name, label, fields"))
    found = list(check_schema("entity", data, shown))
    if found:
        for problem in found:
            problems.add(problem)
        return None
    entity = EntityFile(shown=shown, spec=data)
    before = len(problems.items)
    for problem in local_problems(entity, path.stem):
        problems.add(problem)
    return entity if len(problems.items) == before else None


def local_problems(entity: EntityFile, stem: str) -> Iterator[FileProblem]:
    """What is wrong with a schema-valid file on its own."""
    spec, shown = entity.spec, entity.shown
    if entity.name != stem:
        yield FileProblem(
            shown,
            "name",
            msg("the file holds the entity '{entity}'; name the file {entity}.yaml",
                entity=entity.name),
        )
    yield from _checked(
        shown, "name", partial(check_name, entity.name, "entity", reserved=RESERVED_ENTITY_NAMES)
    )
    for key in ("label", "label_plural"):
        if spec.get(key) is not None:
            yield from _checked(shown, key, partial(check_label, spec[key], "entity", key))
    if spec.get("tree") and not spec.get("directory"):
        yield FileProblem(shown, "tree",
                          msg("only a directory can be a tree (set directory: true)"))
    if spec.get("child") and (spec.get("directory") or spec.get("tree")):
        yield FileProblem(shown, "child",
                          msg("an entity of child-table lines cannot be a directory"))
    seen: set[str] = set()
    for index, fspec in enumerate(entity.fields):
        name = fspec["name"]
        yield from _checked(
            shown,
            entity.field_path(index, "name"),
            partial(check_name, name, "field", reserved=RESERVED_FIELD_NAMES),
        )
        if fspec.get("label") is not None:
            yield from _checked(
                shown,
                entity.field_path(index, "label"),
                partial(check_label, fspec["label"], "field"),
            )
        if name in seen:
            yield FileProblem(
                shown, entity.field_path(index, "name"),
                msg("the field '{name}' is listed twice", name=name),
            )
        seen.add(name)
    title = spec.get("title_field")
    if title is not None and title not in seen:
        yield FileProblem(shown, "title_field", msg("'{name}' is not one of the entity's fields",
                                                       name=title))


def _checked(shown: str, path: str, check: Callable[[], object]) -> Iterator[FileProblem]:
    try:
        check()
    except ValidationError as exc:
        yield FileProblem(shown, path, exc.message)
