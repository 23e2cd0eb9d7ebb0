"""``load_demo_data``: insert the records of ``<config>/data/<entity>.yaml``.

Records are written in the API's record shape. Ids are assigned on insert, so a
record that another one refers to carries a local key (``_key: acme``) and the
reference is written ``{"$ref": "clients/acme"}`` wherever the API expects the
id: a link, a tree's ``parent``, an item of a many-to-many list, a field of a
child-table line. Records are inserted after the records they refer to (then in
file and list order), all in one transaction: a problem anywhere loads nothing.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from recordbase import db
from recordbase.catalog import Catalog
from recordbase.configio.checks import live_catalog
from recordbase.configio.files import (
    FileProblem,
    Problems,
    check_schema,
    json_path,
    read_yaml,
    shown_path,
    yaml_files,
)
from recordbase.errors import RecordbaseError, ValidationError
from recordbase.messages import msg

if TYPE_CHECKING:
    from recordbase.runtime import Runtime

DATA = "data"
KEY = "_key"
REF = "$ref"
NOT_LOADED = msg("no record was loaded")
RecordKey = tuple[str, str]


@dataclass(frozen=True)
class DemoRecord:
    entity: str
    shown: str
    index: int
    key: str | None
    body: dict[str, Any]

    @property
    def where(self) -> str:
        return f"[{self.index}]"

    def describe(self) -> str:
        if self.key:
            return msg("{file}: record {where} ({key})", file=self.shown, where=self.where,
                       key=self.key)
        return msg("{file}: record {where}", file=self.shown, where=self.where)


def load_demo_data(runtime: Runtime, directory: Path, *, user_id: int | None) -> dict[str, int]:
    """Insert every record of ``directory``/data/*.yaml; return how many, per entity."""
    root = Path(directory)
    folder = root / DATA
    if not folder.is_dir():
        return {}
    records, counts = read_records(folder, root, live_catalog(runtime))
    order = insertion_order(records)
    ids: dict[RecordKey, int] = {}
    with db.write(runtime.engine) as conn:
        catalog = runtime.cache.current(conn)
        for record in order:
            record_id = insert_record(runtime, conn, catalog, record, ids, user_id)
            if record.key is not None:
                ids[(record.entity, record.key)] = record_id
            counts[record.entity] += 1
    return counts


def read_records(
    folder: Path, root: Path, catalog: Catalog
) -> tuple[list[DemoRecord], dict[str, int]]:
    """Every record of every data file, checked on its own; and a zero count per entity."""
    problems = Problems()
    records: list[DemoRecord] = []
    counts: dict[str, int] = {}
    for path in yaml_files(folder, root, problems):
        shown = shown_path(path, root)
        try:
            found = read_data_file(path, shown, catalog)
        except FileProblem as unreadable:
            problems.add(unreadable)
            continue
        for problem in found[1]:
            problems.add(problem)
        records.extend(found[0])
        counts[path.stem] = 0
    problems.raise_if_any(NOT_LOADED)
    return records, counts


def read_data_file(
    path: Path, shown: str, catalog: Catalog
) -> tuple[list[DemoRecord], list[FileProblem]]:
    entity = catalog.entities.get(path.stem)
    if entity is None or entity.removed:
        raise FileProblem(shown, "", msg("there is no entity named '{name}' to load it into",
                                         name=path.stem))
    data = read_yaml(path, shown)
    problems = list(check_schema("data", data, shown))
    if problems:
        return [], problems
    records: list[DemoRecord] = []
    keys: set[str] = set()
    for index, item in enumerate(data):
        body = dict(item)
        key = body.pop(KEY, None)
        if key is not None and key in keys:
            problems.append(FileProblem(shown, f"[{index}]._key",
                                        msg("the key '{key}' is used twice", key=key)))
        keys.add(key)
        records.append(DemoRecord(entity.name, shown, index, key, body))
    return records, problems


# --- references ---------------------------------------------------------------------------


def references(value: Any, path: list[str | int]) -> Iterator[tuple[list[str | int], str]]:
    """Every ``$ref`` inside a value, with where it is."""
    if isinstance(value, dict):
        if REF in value:
            yield path, str(value[REF])
            return
        for key, item in value.items():
            yield from references(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from references(item, [*path, index])


def ref_key(ref: str) -> RecordKey:
    entity, _, key = ref.partition("/")
    return entity, key


def insertion_order(records: list[DemoRecord]) -> list[DemoRecord]:
    """The records, each after those it refers to; otherwise in the order they were read."""
    problems = Problems()
    keyed = {(r.entity, r.key): i for i, r in enumerate(records) if r.key is not None}
    needs: list[set[int]] = [set() for _ in records]
    for i, record in enumerate(records):
        for path, ref in references(record.body, [record.where]):
            target = keyed.get(ref_key(ref))
            if target is None:
                problems.note(
                    record.shown,
                    json_path(path),
                    msg("{ref} names no record: no record of data/{entity}.yaml has that _key",
                        ref=repr(ref), entity=ref_key(ref)[0]),
                )
            elif target == i:
                problems.note(record.shown, json_path(path),
                              msg("a record cannot refer to itself"))
            else:
                needs[i].add(target)
    problems.raise_if_any(NOT_LOADED)
    waiting = [len(n) for n in needs]
    needed_by: list[list[int]] = [[] for _ in records]
    for i, deps in enumerate(needs):
        for dep in deps:
            needed_by[dep].append(i)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for later in needed_by[i]:
            waiting[later] -= 1
            if waiting[later] == 0:
                heapq.heappush(ready, later)
    if len(order) < len(records):
        circle = [records[i].describe() for i, count in enumerate(waiting) if count]
        raise ValidationError(
            msg("Records refer to each other in a circle, so none can be inserted first; "
                "{nothing_done}: {records}.", nothing_done=NOT_LOADED,
                records=", ".join(circle[:10]))
        )
    return [records[i] for i in order]


def resolve(value: Any, ids: dict[RecordKey, int]) -> Any:
    """The value with each ``{"$ref": ...}`` replaced by the id its record got."""
    if isinstance(value, dict):
        if REF in value:
            return ids[ref_key(str(value[REF]))]
        return {key: resolve(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, ids) for item in value]
    return value


def insert_record(
    runtime: Runtime,
    conn: sa.Connection,
    catalog: Catalog,
    record: DemoRecord,
    ids: dict[RecordKey, int],
    user_id: int | None,
) -> int:
    try:
        return runtime.records.insert(
            conn,
            catalog,
            catalog.entity(record.entity),
            resolve(record.body, ids),
            user_id=user_id,
        )
    except RecordbaseError as exc:
        raise ValidationError(
            msg("{record}: {problem} Nothing was loaded.", record=record.describe(),
                problem=exc.message),
            fields=exc.fields,
        ) from exc
