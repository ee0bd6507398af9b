"""
### Continuous control monitoring: extract → populations → GX tests → evidence

Runs once per UTC day over that day's data interval (`CronDataIntervalTimetable`), so a
backfill or catch-up over a window produces every period in it.

1. **extract_&lt;source&gt;** task groups pull the datasets the control matrix needs into
   the raw Parquet lake: `events` reads event datasets for the data interval (and, for
   late-arriving ones, a look-back), `snapshots` observes a family's snapshot datasets
   together, stamped `observed_at`. Each dataset's extract is complete or writes nothing,
   and leaves a manifest; a task fails if any of its datasets failed (after trying all).
2. **plan** decides which control-periods closed in the interval (plus recent ones whose
   inputs changed) and whether their inputs are complete. It runs even when an extract
   failed: those controls become `not_tested`, never `pass`.
3. **transform** builds the populations with dbt; **evaluate** runs each control's Great
   Expectations suite, applies approved exceptions and writes results, evidence and the
   ledger; **publish** rebuilds the metrics marts and their exports for BI tools, the
   status index and the dashboard (in the Airflow UI under **Controls**).
4. **all_extracts_complete** and **populations_built** fail the run if an extract failed
   or dbt could not build a population, after the evidence (`not_tested` with the
   reason) has been recorded.

Where `CCM_INTERVAL_HOOK` names a `module:function`, a **prepare_interval** task calls it
before the extracts (a deployment-specific step; the demo organisation moves its simulated
clock there).

Tasks that write the DuckDB warehouse share the one-slot pool `ccm_warehouse`.
"""

from __future__ import annotations

import os

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import dag, task
from airflow.sdk.definitions.taskgroup import TaskGroup
from airflow.timetables.interval import CronDataIntervalTimetable

from ccm.airflow_support import WAREHOUSE_POOL, default_args, extract_groups, interval_hook

START_DATE = pendulum.parse(os.environ.get("CCM_START_DATE", "2025-10-01"), tz="UTC")
# a demo (or a bounded audit backfill) has an end; production leaves it open
END_DATE = pendulum.parse(os.environ["CCM_END_DATE"], tz="UTC") if os.environ.get("CCM_END_DATE") else None


@task(pool=WAREHOUSE_POOL)
def prepare_interval(hook: str, **context) -> str:
    """Only where `CCM_INTERVAL_HOOK` is set: call it before the extracts (e.g. a simulated clock)."""
    from ccm.airflow_support import run_interval_hook

    return run_interval_hook(hook, context)


@task
def extract_datasets(dataset_keys: list[str], **context) -> dict:
    from ccm.airflow_support import interval_of, run_context
    from ccm.config import Settings
    from ccm.pipeline import extract_group
    from ccm.sources.connections import from_airflow

    manifests = extract_group(Settings.from_env(), dataset_keys, interval_of(context), run_context(context),
                              from_airflow)
    return {m.dataset_key: {"status": m.status.value, "rows": m.rows_written} for m in manifests}


@task(pool=WAREHOUSE_POOL, trigger_rule="all_done")
def plan(**context) -> dict:
    from ccm.airflow_support import interval_of, run_context
    from ccm.config import Settings
    from ccm.pipeline import plan as plan_step

    return plan_step(Settings.from_env(), interval_of(context), run_context(context))


@task(pool=WAREHOUSE_POOL)
def transform(**context) -> dict:
    from ccm.airflow_support import run_context
    from ccm.config import Settings
    from ccm.pipeline import transform as transform_step

    return transform_step(Settings.from_env(), run_context(context))


@task(pool=WAREHOUSE_POOL)
def evaluate(**context) -> dict:
    from ccm.airflow_support import run_context
    from ccm.config import Settings
    from ccm.pipeline import evaluate as evaluate_step

    summary = evaluate_step(Settings.from_env(), run_context(context))
    return {"evaluated": summary["evaluated"],
            "statuses": {r["control_id"] + " " + r["period"]: r["status"] for r in summary["results"]}}


@task(pool=WAREHOUSE_POOL)
def publish(**context) -> dict:
    from ccm.airflow_support import run_context
    from ccm.config import Settings
    from ccm.pipeline import publish as publish_step

    return publish_step(Settings.from_env(), run_context(context))


@task(pool=WAREHOUSE_POOL, trigger_rule="all_done")
def populations_built(**context) -> dict:
    from ccm.airflow_support import run_context
    from ccm.config import Settings
    from ccm.pipeline import health

    return health(Settings.from_env(), run_context(context))


@dag(
    dag_id="ccm_controls",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=START_DATE,
    end_date=END_DATE,
    catchup=os.environ.get("CCM_CATCHUP", "false").lower() == "true",
    max_active_runs=1,
    default_args=default_args(),
    tags=["ccm", "soc2", "controls"],
    doc_md=__doc__,
)
def ccm_controls():
    extracts = []
    for source, kinds in extract_groups().items():
        with TaskGroup(group_id=f"extract_{source}"):
            for kind, keys in kinds.items():
                extracts.append(extract_datasets.override(task_id=kind)(keys))
    hook = interval_hook()
    if hook:
        prepare_interval(hook) >> extracts
    planned = plan()
    published = publish()
    extracts >> planned >> transform() >> evaluate() >> published
    all_extracted = EmptyOperator(task_id="all_extracts_complete", trigger_rule="all_success")
    [*extracts, published] >> all_extracted
    published >> populations_built()


ccm_controls()
