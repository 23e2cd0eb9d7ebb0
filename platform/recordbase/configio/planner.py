"""``plan_config`` and ``apply_config``: compare the files with the live catalog, then apply.

Order of a plan: new entities (in dependency order), then the fields added after
all entities exist, then new fields of existing entities, then changes of labels,
help texts, title fields and navigation settings, then what cannot be applied (which
blocks the plan).

Dependency order: among the entities still to create, the first (by position,
then name) whose fields' targets all exist already (or are itself) is created
next. When none is ready, the entities point at each other (clients ↔ contacts):
the one with the fewest fields still waiting (then the first) is created without
those fields, which are added with ``add_field`` once every entity exists.

A field added to an entity that already holds records is filled with its default
(``fill_existing``); a required field without one, or a unique field whose default
would repeat, is refused in the plan, before anything changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from recordbase import db
from recordbase.catalog import Catalog
from recordbase.configio.checks import (
    ENTITY_FLAGS,
    CheckedEntity,
    check_config,
    live_catalog,
    live_title_field,
)
from recordbase.configio.layouts import SaveLayout, apply_layouts, plan_layouts
from recordbase.configio.loader import ConfigSet
from recordbase.configio.steps import (
    AddField,
    CreateEntity,
    Drift,
    Plan,
    Step,
    Unsupported,
    UpdateEntity,
    UpdateField,
    json_copy,
    quoted,
)
from recordbase.errors import RecordbaseError, ValidationError
from recordbase.fields.computed import VALUE_OPTIONS
from recordbase.messages import joined, msg
from recordbase.model import EntityDef, FieldDef
from recordbase.schema.specs import field_to_json

if TYPE_CHECKING:
    from recordbase.runtime import Runtime

FIELD_FLAGS = ("required", "unique", "indexed", "default")
FIELD_TEXTS = ("label", "help")
ENTITY_TEXTS = ("label", "label_plural")


def plan_config(runtime: Runtime, config: ConfigSet) -> Plan:
    """The steps that would make the database match ``config`` (nothing is changed)."""
    live = live_catalog(runtime)
    checked = check_config(config, live)
    new = [c for c in checked if c.name not in live.entities]
    existing = [c for c in checked if c.name in live.entities]
    creates, deferred = creation_steps(new, live)
    rows = row_counts(runtime, live, [c.name for c in existing])
    adds: list[Step] = []
    updates: list[Step] = []
    blocked: list[Step] = []
    layouts: list[Step] = []
    for entity in existing:
        current = live.entities[entity.name]
        for step in compare_entity(entity, current, rows.get(entity.name, 0), live):
            bucket = adds if isinstance(step, AddField) else updates
            (blocked if step.blocking else bucket).append(step)
    for step in plan_layouts(runtime, config, live):
        (blocked if step.blocking else layouts).append(step)
    for gone in live.live_entities():
        if gone.name not in config:
            blocked.append(
                Drift(
                    f"entity {gone.name}",
                    msg("is in the database but has no file metadata/{name}.yaml; removing "
                        "entities is not supported by config apply yet", name=gone.name),
                )
            )
    from recordbase.configio.templates import template_steps

    templates = template_steps(runtime, config.directory, live)
    adds.sort(key=_computed_last)
    return Plan([*creates, *deferred, *adds, *updates, *layouts, *templates, *blocked])


def _computed_last(step: Step) -> int:
    """New computed fields after the fields they are worked out from (each is recomputed
    for the existing records as it is added, so its inputs must be there), sums last."""
    options = step.spec.get("options") if isinstance(step, AddField) else None
    computed = options.get("computed") if isinstance(options, dict) else None
    if not isinstance(computed, dict):
        return 0
    return 2 if "sum" in computed else 1


def apply_config(runtime: Runtime, config: ConfigSet, *, user_id: int | None = None) -> Plan:
    """Plan, refuse if any step cannot be applied (nothing changed), else apply every step."""
    plan = plan_config(runtime, config)
    blocked = plan.blocked
    if blocked:
        lines = [step.describe() for step in blocked]
        raise ValidationError(
            msg("Nothing was changed: 1 difference cannot be applied by config apply yet: "
                "{steps}.", steps=lines[0]) if len(lines) == 1 else
            msg("Nothing was changed: {count} differences cannot be applied by config apply "
                "yet: {steps}.", count=len(lines), steps=joined(lines, "; ")),
            extra={"steps": lines},
        )
    queued = [(step, op) for step in plan.steps for op in step.operations()]
    queued += [(step, op) for step in plan.steps for op in step.finishing()]
    layouts = [step.layout for step in plan.steps if isinstance(step, SaveLayout)]

    def then(conn: sa.Connection, catalog: Catalog) -> None:
        try:
            apply_layouts(conn, catalog, runtime.layouts, layouts)
        except RecordbaseError as exc:
            raise ValidationError(
                msg("Config apply stopped at the layouts: {problem} Nothing was changed.",
                    problem=exc.message),
                fields=exc.fields,
            ) from exc

    if not queued:  # layouts alone: presentation, allowed whatever the licence says
        with db.write(runtime.engine) as conn:
            then(conn, live_catalog(runtime))
        return plan
    try:
        runtime.schema.execute_all([op for _, op in queued], user_id=user_id, then=then)
    except RecordbaseError as exc:
        if exc.message.startswith("Config apply stopped at the layouts"):
            raise
        index = exc.extra.get("step")
        where = queued[index][0].describe() if isinstance(index, int) else None
        raise ValidationError(
            msg("Config apply stopped at '{step}': {problem} Nothing was changed.", step=where,
                problem=exc.message) if where is not None else
            msg("Config apply stopped at 'the start': {problem} Nothing was changed.",
                problem=exc.message),
            fields=exc.fields,
        ) from exc
    return plan


# --- new entities ----------------------------------------------------------------------


def target_of(field: Mapping[str, Any]) -> str | None:
    """The entity a field's values point at (links, child tables, many-to-many)."""
    target = field["options"].get("target")
    return target if isinstance(target, str) else None


def waiting_fields(entity: CheckedEntity, made: set[str]) -> list[str]:
    """Fields whose target is neither made yet nor the entity itself."""
    return [
        f["name"]
        for f in entity.fields
        if (target := target_of(f)) is not None and target not in made and target != entity.name
    ]


def creation_order(
    new: list[CheckedEntity], live: Catalog
) -> list[tuple[CheckedEntity, list[str]]]:
    """Each new entity with the names of its fields that must wait (see the module's doc)."""
    made = {entity.name for entity in live.live_entities()}
    pending = list(new)
    order: list[tuple[CheckedEntity, list[str]]] = []
    while pending:
        ready = [c for c in pending if not waiting_fields(c, made)]
        chosen = (
            ready[0]
            if ready
            else min(pending, key=lambda c: (len(waiting_fields(c, made)), pending.index(c)))
        )
        order.append((chosen, waiting_fields(chosen, made)))
        made.add(chosen.name)
        pending.remove(chosen)
    return order


def creation_steps(new: list[CheckedEntity], live: Catalog) -> tuple[list[Step], list[Step]]:
    creates: list[Step] = []
    deferred: list[Step] = []
    for entity, waiting in creation_order(new, live):
        spec = dict(entity.attributes)
        title = spec["title_field"]
        later = title if title in waiting else None
        if later is not None:
            spec["title_field"] = None
        spec["fields"] = [json_copy(f) for f in entity.fields if f["name"] not in waiting]
        creates.append(CreateEntity(entity.name, spec, title_field_later=later))
        deferred.extend(
            AddField(entity.name, json_copy(entity.field(name)), deferred=True) for name in waiting
        )
    return creates, deferred


# --- existing entities -------------------------------------------------------------------


def row_counts(runtime: Runtime, live: Catalog, names: list[str]) -> dict[str, int]:
    """How many records each (live) entity holds: new fields must suit them."""
    with db.read(runtime.engine) as conn:
        return {
            name: int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(live.table(live.entities[name]))
                ).scalar_one()
            )
            for name in names
            if not live.entities[name].removed
        }


def compare_entity(
    entity: CheckedEntity, current: EntityDef, rows: int, live: Catalog
) -> Iterator[Step]:
    subject = f"entity {entity.name}"
    if current.removed:
        yield Unsupported(
            subject,
            msg("an entity of this name was removed in the database; restore or purge it first "
                "(config apply does not do either yet)"),
        )
        return
    wanted = entity.attributes
    for flag in ENTITY_FLAGS:
        old = getattr(current, flag)
        if old != wanted[flag]:
            yield Unsupported(
                subject, changing(flag, quoted(old), quoted(wanted[flag]))
            )
    for attribute in ENTITY_TEXTS:
        old = getattr(current, attribute)
        if old != wanted[attribute]:
            yield UpdateEntity(entity.name, attribute, old, wanted[attribute])
    if current.nav.to_json() != wanted["nav"]:
        yield UpdateEntity(entity.name, "nav", current.nav.to_json(), wanted["nav"])
    named = {f["name"] for f in entity.fields}
    for fspec in entity.fields:
        yield from compare_field(entity, fspec, current, rows, live)
    for fdef in current.fields:
        if fdef.name not in named:
            yield Drift(
                f"field {entity.name}.{fdef.name}",
                msg("is in the database but not in {file}; removing fields is not supported by "
                    "config apply yet", file=entity.file.shown),
            )
    title = live_title_field(current)
    if title != wanted["title_field"]:
        yield UpdateEntity(entity.name, "title_field", title, wanted["title_field"])


def compare_field(
    entity: CheckedEntity,
    wanted: Mapping[str, Any],
    current: EntityDef,
    rows: int,
    catalog: Catalog,
) -> Iterator[Step]:
    name = wanted["name"]
    subject = f"field {entity.name}.{name}"
    live = next((f for f in current.all_fields if f.name == name), None)
    if live is None:
        yield new_field(entity.name, wanted, rows, catalog)
    elif live.removed:
        yield Unsupported(
            subject,
            "a field of this name was removed in the database; restore "
            "or purge it first (config apply does not do either yet)",
        )
    else:
        yield from field_changes(entity.name, wanted, live)


def new_field(entity: str, wanted: Mapping[str, Any], rows: int, catalog: Catalog) -> Step:
    """Adding a field to an entity that holds ``rows`` records: the default fills them."""
    subject = f"field {entity}.{wanted['name']}"
    probe = FieldDef(
        id=0,
        entity_id=0,
        name=wanted["name"],
        label=wanted["label"],
        type=wanted["type"],
        options=wanted["options"],
    )
    stored = catalog.registry.get(wanted["type"]).source_column(probe) is not None
    spec = json_copy(wanted)
    if rows and stored and wanted["default"] is not None:
        if wanted["unique"] and rows > 1:
            return Unsupported(
                subject,
                msg("the {count} existing records would all get the default, but the field must "
                    "be unique", count=rows),
            )
        spec["fill_existing"] = True
    elif rows and stored and wanted["required"]:
        return Unsupported(
            subject,
            msg("the {count} existing records would have no value for this required field; "
                "give it a default", count=rows),
        )
    return AddField(entity, spec)


def field_changes(entity: str, wanted: Mapping[str, Any], live: FieldDef) -> Iterator[Step]:
    have = json_copy(field_to_json(live))
    subject = f"field {entity}.{live.name}"
    if have["type"] != wanted["type"]:
        yield Unsupported(subject, changing("type", have["type"], wanted["type"]))
        return
    old_options, new_options = have["options"], json_copy(wanted["options"])
    if old_options != new_options:
        keys = sorted(
            k for k in {*old_options, *new_options} if old_options.get(k) != new_options.get(k)
        )
        # they rewrite no column (a computation is recomputed in the apply's transaction)
        if set(keys) <= VALUE_OPTIONS:
            yield UpdateField(entity, live.name, "options", old_options, new_options)
        else:
            yield Unsupported(subject, msg(
                "changing options ({keys}) is not supported by config apply yet",
                keys=", ".join(keys)))
    for flag in FIELD_FLAGS:
        if have[flag] != wanted[flag]:
            yield Unsupported(
                subject, changing(flag, quoted(have[flag]), quoted(wanted[flag]))
            )
    for attribute in FIELD_TEXTS:
        if have[attribute] != wanted[attribute]:
            yield UpdateField(entity, live.name, attribute, have[attribute], wanted[attribute])


def changing(what: str, old: str, new: str) -> str:
    return msg("changing {what} {old} -> {new} is not supported by config apply yet", what=what,
               old=old, new=new)
