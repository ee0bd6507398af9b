"""Build the metrics marts with dbt and export them for BI tools.

The marts (`dbt/models/marts/mart_*.sql`) are DuckDB tables in the warehouse's `marts`
schema. They are rebuilt whole on every publish: they summarise `ccm.control_results`
(one row per control-period, a few thousand rows a year) and the extract manifests, so a
rebuild costs about the same every day, and there is no incremental state to go wrong.

After the build every mart is exported to `<marts>/<mart>.parquet` (a local directory or
`s3://bucket/prefix`), and copied into a small DuckDB file `<marts>/ccm_metrics.duckdb`.
BI tools should read those: DuckDB lets one process write a database file and a reader
holding the warehouse would block the pipeline's next run, while the exports are
replaced atomically and can be held open by any number of readers.
"""

from __future__ import annotations

import logging
import os
import posixpath
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ccm.config import Settings

log = logging.getLogger(__name__)

MARTS_SCHEMA = "marts"
MART_PREFIX = "mart_"
BI_DATABASE = "ccm_metrics.duckdb"
BI_STORAGE_VERSION = "v1.0.0"
MARTS_URI_ENV = "CCM_MARTS_URI"


def marts_uri(settings: Settings, env: dict[str, str] | None = None) -> str:
    """Where the exported marts go: `CCM_MARTS_URI`, else `<data_dir>/marts`."""
    env = dict(os.environ if env is None else env)
    return env.get(MARTS_URI_ENV) or str(settings.data_dir / "marts")


@dataclass(frozen=True)
class MartsBuild:
    """What a build produced: the marts, their row counts, and where they were exported."""

    marts: dict[str, int]
    location: str
    parquet_files: tuple[str, ...]
    bi_database: str
    dbt_nodes: int


def refresh_reference_tables(settings: Settings) -> dict[str, Any]:
    """Write the control matrix, datasets, exceptions and new manifests into the warehouse."""
    from ccm.controls.catalog import load_controls
    from ccm.controls.exceptions import load_exception_register
    from ccm.lake import Lake
    from ccm.metrics.reference import sync_reference_tables
    from ccm.sources.registry import dataset_kinds
    from ccm.warehouse import connect

    catalog = load_controls(settings, dataset_kinds())
    exceptions = load_exception_register(settings, {c.control_id for c in catalog})
    with connect(settings.warehouse_path) as con:
        return sync_reference_tables(con, catalog, exceptions, Lake(settings.lake_uri, settings.s3_endpoint_url))


def run_mart_models(settings: Settings, as_of: datetime) -> int:
    """dbt build of the marts and the staging / intermediate views under them (with their data tests)."""
    from ccm.periods import as_utc
    from ccm.transform import run_dbt
    from ccm.warehouse import connect, ensure_schema

    # the instant goes into a table, not a dbt var: a var that changes every run would make
    # dbt re-parse the whole project each time
    with connect(settings.warehouse_path) as con:
        ensure_schema(con)
        con.execute("delete from ccm.metrics_as_of")
        con.execute("insert into ccm.metrics_as_of values (?)", [as_utc(as_of)])
    nodes = run_dbt(settings, ["build", "--select", "+path:models/marts", "--exclude", "resource_type:unit_test"])
    return len(nodes)


def mart_tables(con: Any, catalog: str | None = None) -> list[str]:
    """Every table in the marts schema named mart_*: other marts join the export without code changes."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? and table_name like ? "
        "and (? is null or table_catalog = ?) order by table_name", [MARTS_SCHEMA, MART_PREFIX + "%", catalog, catalog],
    ).fetchall()
    return [r[0] for r in rows]


def export_marts(settings: Settings, location: str | None = None) -> MartsBuild:
    """Export every mart to Parquet and into the BI DuckDB file at `location`."""
    import duckdb
    import pyarrow.parquet as pq

    from ccm.lake import open_filesystem

    location = location or marts_uri(settings)
    fs, root = open_filesystem(location, settings.s3_endpoint_url)
    local = not location.startswith("s3://")
    counts: dict[str, int] = {}
    written: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ccm-marts-") as scratch:
        bi_tmp = Path(scratch) / BI_DATABASE
        with duckdb.connect() as con:
            con.execute("set TimeZone = 'UTC'")
            # the warehouse is only read; the BI file is written in DuckDB 1.0's storage format, so the
            # DuckDB bundled with a BI tool's driver can open it even when it is older than ours
            con.execute(f"attach '{_sql_path(settings.warehouse_path)}' as warehouse (read_only)")
            con.execute(f"attach '{_sql_path(bi_tmp)}' as bi (storage_version '{BI_STORAGE_VERSION}')")
            names = mart_tables(con, "warehouse")
            for name in names:
                relation = f'warehouse.{MARTS_SCHEMA}."{name}"'
                table = con.sql(f"select * from {relation}").to_arrow_table()
                counts[name] = table.num_rows
                target = posixpath.join(root, f"{name}.parquet")
                _write_atomically(fs, target, local, lambda sink, t=table: pq.write_table(t, sink, compression="zstd"))
                written.append(target if local else f"s3://{target}")
                con.execute(f'create table bi.main."{name}" as select * from {relation}')
            con.execute("detach bi")
            con.execute("detach warehouse")
        bi_target = posixpath.join(root, BI_DATABASE)
        data = bi_tmp.read_bytes()
        _write_atomically(fs, bi_target, local, lambda sink: sink.write(data))
    log.info("exported %s marts to %s", len(counts), location)
    return MartsBuild(counts, location, tuple(written), bi_target if local else f"s3://{bi_target}", 0)


def _sql_path(path: Path) -> str:
    return Path(path).resolve().as_posix().replace("'", "''")


def _write_atomically(fs: Any, target: str, local: bool, write: Any) -> None:
    """A temporary name then a rename locally (readers never see half a file); one PUT on S3."""
    parent = posixpath.dirname(target)
    if local:  # on S3 a "directory" would be an empty marker object
        fs.create_dir(parent, recursive=True)
    path = posixpath.join(parent, f".tmp-{os.getpid()}-{posixpath.basename(target)}") if local else target
    with fs.open_output_stream(path) as sink:
        write(sink)
    if local:
        fs.move(path, target)


def build_marts(settings: Settings, as_of: datetime) -> MartsBuild:
    """The publish step's metrics part: reference tables, dbt marts, exports."""
    refresh_reference_tables(settings)
    nodes = run_mart_models(settings, as_of)
    build = export_marts(settings)
    return MartsBuild(build.marts, build.location, build.parquet_files, build.bi_database, nodes)
