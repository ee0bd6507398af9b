"""The DuckDB warehouse: raw lake views, the evaluation plan, and control results.

Schemas:
- `raw`:  one view per lake dataset (`raw.okta__users`) over the whole lake, for people
          and BI tools; an empty, typed relation when a dataset has no files yet;
- `planned`: the same views over only the files this run's plan reads (dbt's sources):
          a query over a glob lists every partition and, with `union_by_name`, opens every
          file's footer, so populations built from `raw` would cost more each day of history;
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
create schema if not exists planned;
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


def _create_view(con: duckdb.DuckDBPyConnection, name: str, dataset: Dataset, files: str | list[str]) -> None:
    """`name` over a glob or a list of lake files (URIs), or an empty typed relation without any."""
    if files:
        source = _sql_string(files) if isinstance(files, str) else "[" + ", ".join(map(_sql_string, files)) + "]"
        con.execute(f"create or replace view {name} as select * from read_parquet({source}, "
                    "hive_partitioning = true, union_by_name = true, filename = 'lake_file')")
    else:
        columns = ", ".join(
            f"cast(null as {_ARROW_TO_DUCKDB[str(f.type)]}) as {f.name}" for f in dataset.arrow_schema
        )
        con.execute(f"create or replace view {name} as select {columns}, cast(null as date) as date, "
                    "cast(null as varchar) as lake_file where false")


def _view_columns(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, tuple[bool, set[str]]]:
    """Per view of `schema`: whether it reads the lake, and its columns (as stored, no re-binding)."""
    reads = {name: "read_parquet" in sql for name, sql in con.execute(
        "select view_name, sql from duckdb_views() where schema_name = ?", [schema]).fetchall()}
    columns: dict[str, set[str]] = {}
    for table, column in con.execute(
            "select table_name, column_name from duckdb_columns() where schema_name = ?", [schema]).fetchall():
        columns.setdefault(table, set()).add(column)
    return {name: (reading, columns.get(name, set())) for name, reading in reads.items()}


def register_lake(con: duckdb.DuckDBPyConnection, lake: Lake, datasets: list[Dataset]) -> list[str]:
    """Make `raw.<dataset>` cover the whole lake; returns the datasets whose view was (re)created.

    A view over a glob sees partitions added later without being recreated, and creating
    one opens the footer of every file, so a view is only (re)created when it is missing,
    still the empty placeholder, or lacks a column of the dataset's current schema.
    """
    ensure_schema(con)
    existing = _view_columns(con, "raw")
    created = []
    for dataset in datasets:
        reads_lake, columns = existing.get(dataset.table_name, (False, set()))
        current = {f.name for f in dataset.arrow_schema} <= columns
        if reads_lake and current:
            continue
        files = lake.dataset_files(dataset)
        if files or not current:  # a placeholder is kept only while it has every column
            _create_view(con, f"raw.{dataset.table_name}", dataset, lake.glob(dataset) if files else [])
            created.append(dataset.key)
    return created


def register_planned_files(con: duckdb.DuckDBPyConnection, lake: Lake, datasets: list[Dataset],
                           files: dict[str, set[str]] | None) -> dict[str, int]:
    """Point `planned.<dataset>` at exactly `files` (lake paths per dataset key), or at the
    whole lake when `files` is None; returns the number of files per dataset."""
    ensure_schema(con)
    counts = {}
    for dataset in datasets:
        paths = lake.dataset_files(dataset) if files is None else sorted(files.get(dataset.key, ()))
        chosen = lake.glob(dataset) if files is None and paths else [lake.uri_of(path) for path in paths]
        _create_view(con, f"planned.{dataset.table_name}", dataset, chosen)
        counts[dataset.key] = len(paths)
    return counts
