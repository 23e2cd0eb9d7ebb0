"""Configuration as code: entity files in, a plan, the changes applied; and back out.

A configuration folder holds ``metadata/<entity>.yaml`` (one entity and its fields,
in the shapes of ``recordbase.schema.specs``) and optionally ``data/<entity>.yaml``
(demo records). Every file is checked against the JSON Schemas in the top-level
``metadata/`` folder before anything else happens.

    config = load_config(folder)           # read and check the files
    plan = plan_config(runtime, config)    # what would change (nothing is changed)
    apply_config(runtime, config)          # apply it, or refuse without changing anything
    export_config(runtime, folder)         # the live configuration as files
    load_demo_data(runtime, folder, user_id=None)
"""

from __future__ import annotations

from recordbase.configio.demo import load_demo_data
from recordbase.configio.export import export_config
from recordbase.configio.loader import ConfigSet, EntityFile, load_config
from recordbase.configio.planner import apply_config, plan_config
from recordbase.configio.steps import (
    AddField,
    Blocked,
    CreateEntity,
    Drift,
    Plan,
    Step,
    Unsupported,
    UpdateEntity,
    UpdateField,
)

__all__ = [
    "AddField",
    "Blocked",
    "ConfigSet",
    "CreateEntity",
    "Drift",
    "EntityFile",
    "Plan",
    "Step",
    "Unsupported",
    "UpdateEntity",
    "UpdateField",
    "apply_config",
    "export_config",
    "load_config",
    "load_demo_data",
    "plan_config",
]
