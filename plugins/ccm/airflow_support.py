"""Thin glue between Airflow and the pipeline: default args, callbacks, pools, intervals.

Imported by DAG files at parse time, so it imports nothing heavy.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

log = logging.getLogger("ccm.airflow")

OWNER = "platform-security"
WAREHOUSE_POOL = "ccm_warehouse"  # one slot: DuckDB allows a single writer per file
WAREHOUSE_POOL_DESCRIPTION = "Serialises tasks that write the DuckDB warehouse (one writer per file)."


# "module:function" called with (interval_start, interval_end) before a run's extracts, in a
# task of its own; unset in production. The demo organisation moves its simulated clock here.
INTERVAL_HOOK_ENV = "CCM_INTERVAL_HOOK"


def interval_hook() -> str | None:
    return os.environ.get(INTERVAL_HOOK_ENV) or None


def run_interval_hook(hook: str, context: dict[str, Any]) -> str:
    """Import and call the configured interval hook; a malformed path is a clear error."""
    import importlib

    from ccm.errors import ConfigError

    module_name, _, function_name = hook.partition(":")
    if not module_name or not function_name:
        raise ConfigError(f"{INTERVAL_HOOK_ENV}={hook!r}: expected 'package.module:function'")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{INTERVAL_HOOK_ENV}={hook!r}: {exc}") from exc
    return str(function(context["data_interval_start"], context["data_interval_end"]))


def _seconds(name: str, default: float) -> timedelta:
    return timedelta(seconds=float(os.environ.get(name, default)))


def on_task_failure(context: dict[str, Any]) -> None:
    """Log one clear line an operator can act on; the traceback is in the task log above it."""
    ti = context.get("ti") or context.get("task_instance")
    exception = context.get("exception")
    interval = f"{context.get('data_interval_start')} .. {context.get('data_interval_end')}"
    log.error(
        "CCM TASK FAILED dag=%s task=%s run=%s try=%s interval=%s error=%s: %s",
        getattr(ti, "dag_id", "?"), getattr(ti, "task_id", "?"), getattr(ti, "run_id", "?"),
        getattr(ti, "try_number", "?"), interval, type(exception).__name__ if exception else "unknown", exception,
    )


def default_args() -> dict[str, Any]:
    return {
        "owner": OWNER,
        "retries": int(os.environ.get("CCM_TASK_RETRIES", "2")),
        "retry_delay": _seconds("CCM_RETRY_DELAY_SECONDS", 60),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "on_failure_callback": on_task_failure,
    }


def run_context(context: dict[str, Any]):
    from ccm.manifests import RunContext

    return RunContext.from_airflow(context)


def interval_of(context: dict[str, Any]):
    from ccm.sources.extract import Interval

    return Interval(context["data_interval_start"], context["data_interval_end"])


def extract_groups() -> dict[str, dict[str, list[str]]]:
    """{source: {"snapshots": [dataset keys], "events": [...]}} for the datasets the control
    matrix needs — the DAG's extract tasks, one per source family and kind. Snapshots of a
    family are observed together, at one moment; events are read for the data interval.
    Datasets no control uses are not extracted (they cost API quota and prove nothing)."""
    from ccm.config import Settings
    from ccm.controls.catalog import load_controls
    from ccm.sources.registry import ALL_DATASETS, dataset_kinds

    settings = Settings.from_env()
    needed = {d for control in load_controls(settings, dataset_kinds()) for d in control.datasets}
    groups: dict[str, dict[str, list[str]]] = {}
    for dataset in ALL_DATASETS:
        if dataset.key in needed:
            kind = "snapshots" if dataset.kind.value == "snapshot" else "events"
            groups.setdefault(dataset.source, {}).setdefault(kind, []).append(dataset.key)
    return groups
