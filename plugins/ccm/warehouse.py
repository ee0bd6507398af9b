"""The DuckDB warehouse: raw lake views, the evaluation plan, and control results.

Schemas:
- `raw`:  one view per lake dataset (`raw.okta__users`), re-registered every run so new
          partitions are visible; an empty, typed relation when a dataset has no files yet;
- `ccm`:  tables the engine owns: `evaluation_plan` (what this run evaluates),
          `plan_inputs` (which snapshot observation each control-period is tested on),
          `control_results` (every evaluation, versioned), `input_coverage`; and the
          reference tables the publish step refreshes for the metrics marts (`controls`,
          `control_criteria`, `control_sources`, `datasets`, `exceptions`,
          `extract_manifests`: see `ccm.metrics.reference`);
- dbt's schemas (`staging`, `intermediate`, `controls`, `marts`).

DuckDB allows one writer per file: callers open, do their work and close.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ccm.datasets import Dataset
from ccm.lake import Lake

_ARROW_TO_DUCKDB = {
    "string": "VARCHAR", "int64": "BIGINT", "double": "DOUBLE", "bool": "BOOLEAN",
    "timestamp[us, tz=UTC]": "TIMESTAMPTZ", "list<item: string>": "VARCHAR[]", "date32[day]": "DATE",
}

SCHEMA_SQL = """
create schema if not exists raw;
create schema if not exists ccm;
create table if not exists ccm.evaluation_plan (
    evaluation_key varchar primary key,  -- control_id/period_start
    control_id varchar not null,
    population_model varchar not null,
    period_start timestamptz not null,
    period_end timestamptz not null,
    inputs_complete boolean not null,
    not_tested_reason varchar,
    input_fingerprint varchar not null,
    input_files json,
    planned_by_run varchar not null
);
-- set by the transform step when dbt could not build a planned population
alter table ccm.evaluation_plan add column if not exists population_error varchar;
create table if not exists ccm.plan_inputs (
    control_id varchar not null,
    population_model varchar not null,
    period_start timestamptz not null,
    period_end timestamptz not null,
    dataset varchar not null,
    observed_at timestamptz not null,
    lake_file varchar not null  -- the observation's file, exactly
);
create table if not exists ccm.control_results (
    evaluation_id varchar primary key,
    control_id varchar not null,
    period_start timestamptz not null,
    period_end timestamptz not null,
    version integer not null,
    status varchar not null,
    population_size integer,
    failing_count integer,
    excepted_count integer,
    failing_entity_ids varchar[],
    excepted_entity_ids varchar[],
    exception_ids varchar[],
    reason varchar,
    gx_result_path varchar,
    data_docs_path varchar,
    population_path varchar,
    population_sha256 varchar,
    input_fingerprint varchar,
    evidence_path varchar,
    ledger_seq bigint,
    evaluated_at timestamptz not null,
    dag_id varchar,
    run_id varchar,
    try_number integer
);
-- the instant the metrics marts are computed at (written by the publish step)
create table if not exists ccm.metrics_as_of (as_of timestamptz not null);
create table if not exists ccm.controls (
    control_id varchar primary key,
    title varchar not null,
    description varchar,
    owner varchar,
    frequency varchar not null,
    population_model varchar not null,
    suite varchar not null
);
create table if not exists ccm.control_criteria (
    control_id varchar not null,
    criterion varchar not null  -- e.g. CC6.1
);
create table if not exists ccm.control_sources (
    control_id varchar not null,
    dataset varchar not null,
    freshness_hours double not null
);
create table if not exists ccm.datasets (
    dataset varchar primary key,  -- <source>.<name>, e.g. okta.users
    source varchar not null,
    name varchar not null,
    kind varchar not null  -- event | snapshot
);
create table if not exists ccm.exceptions (
    exception_id varchar primary key,
    control_id varchar not null,
    entity_id varchar not null,
    reason varchar,
    approved_by varchar,
    ticket varchar,
    approved_on date not null,
    expires_on date not null,
    valid_from timestamptz not null,
    valid_until timestamptz not null  -- exclusive: the end of expires_on
);
create table if not exists ccm.extract_manifests (
    manifest_path varchar primary key,  -- relative to the lake root
    extract_id varchar not null,
    dataset varchar not null,
    source varchar not null,
    kind varchar not null,
    interval_start timestamptz not null,
    interval_end timestamptz not null,
    status varchar not null,  -- complete | incomplete | failed
    started_at timestamptz not null,
    finished_at timestamptz not null,
    observed_at timestamptz,
    recorded_at timestamptz,
    rows_written bigint not null,
    api_total bigint,
    pages integer,
    quarantined bigint not null,
    files_written integer not null,
    error varchar,
    duration_s double,
    dag_id varchar,
    run_id varchar
);
create or replace view ccm.current_results as
select * exclude (rn) from (
    select *, row_number() over (partition by control_id, period_start order by version desc) as rn
    from ccm.control_results
) where rn = 1;
"""


@contextlib.contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute("set TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_SQL)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def register_dataset(con: duckdb.DuckDBPyConnection, lake: Lake, dataset: Dataset) -> int:
    """(Re)create `raw.<dataset>` over the lake; returns the number of files it covers."""
    files = lake.dataset_files(dataset)
    name = f"raw.{dataset.table_name}"
    if files:
        con.execute(
            f"create or replace view {name} as select * from read_parquet({_sql_string(lake.glob(dataset))}, "
            "hive_partitioning = true, union_by_name = true, filename = 'lake_file')"
        )
    else:
        columns = ", ".join(
            f"cast(null as {_ARROW_TO_DUCKDB[str(f.type)]}) as {f.name}" for f in dataset.arrow_schema
        )
        con.execute(f"create or replace view {name} as select {columns}, cast(null as date) as date, "
                    "cast(null as varchar) as lake_file where false")
    return len(files)


def register_lake(con: duckdb.DuckDBPyConnection, lake: Lake, datasets: list[Dataset]) -> dict[str, int]:
    ensure_schema(con)
    return {d.key: register_dataset(con, lake, d) for d in datasets}
