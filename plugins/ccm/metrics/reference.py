"""Reference tables for the marts: the control matrix, datasets, exceptions, manifests.

The marts must be generic over the control matrix, so everything they join on comes
from the same files the engine reads, written into `ccm.*` tables on each publish:

- `ccm.controls`, `ccm.control_criteria`, `ccm.control_sources` from `controls.yml`;
- `ccm.datasets` from the source registry (every dataset, extracted or not yet);
- `ccm.exceptions` from `exceptions.yml`;
- `ccm.extract_manifests`: one row per extract attempt under `<lake>/manifests/`.

The first four are small and fully replaced. Manifests accumulate (one per dataset per
run), and are never rewritten once recorded, so only files not yet registered are read:
a daily publish reads a day's manifests, not the whole history.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from ccm.controls.catalog import Catalog
    from ccm.controls.exceptions import ExceptionRegister
    from ccm.lake import Lake
    from ccm.manifests import ExtractManifest

log = logging.getLogger(__name__)

MANIFEST_DIR = "manifests"
_MANIFEST_COLUMNS = (
    "manifest_path", "extract_id", "dataset", "source", "kind", "interval_start", "interval_end", "status",
    "started_at", "finished_at", "observed_at", "recorded_at", "rows_written", "api_total", "pages",
    "quarantined", "files_written", "error", "duration_s", "dag_id", "run_id",
)


def _replace(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Replace a table's rows in one bulk insert (DuckDB's executemany runs row by row)."""
    import pyarrow as pa

    con.execute(f"delete from {table}")
    if rows:
        batch = pa.Table.from_pylist([dict(zip(columns, row, strict=True)) for row in rows])
        con.register("reference_rows", batch)
        try:
            con.execute(f"insert into {table} ({', '.join(columns)}) select {', '.join(columns)} from reference_rows")
        finally:
            con.unregister("reference_rows")


def sync_control_matrix(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> int:
    """Replace `ccm.controls`, `ccm.control_criteria` and `ccm.control_sources`; returns the control count."""
    _replace(con, "ccm.controls",
             ("control_id", "title", "description", "owner", "frequency", "population_model", "suite"),
             [(c.control_id, c.title, c.description, c.owner, c.frequency.value, c.population_model, c.suite)
              for c in catalog])
    _replace(con, "ccm.control_criteria", ("control_id", "criterion"),
             [(c.control_id, criterion) for c in catalog for criterion in c.criteria])
    _replace(con, "ccm.control_sources", ("control_id", "dataset", "freshness_hours"),
             [(c.control_id, s.dataset, s.freshness.total_seconds() / 3600) for c in catalog for s in c.sources])
    return len(catalog)


def sync_datasets(con: duckdb.DuckDBPyConnection) -> int:
    """Replace `ccm.datasets` with every dataset the source registry knows."""
    from ccm.sources.registry import ALL_DATASETS

    _replace(con, "ccm.datasets", ("dataset", "source", "name", "kind"),
             [(d.key, d.source, d.name, d.kind.value) for d in ALL_DATASETS])
    return len(ALL_DATASETS)


def sync_exceptions(con: duckdb.DuckDBPyConnection, exceptions: ExceptionRegister) -> int:
    """Replace `ccm.exceptions` with the approved exceptions in force, expired or pending."""
    _replace(con, "ccm.exceptions",
             ("exception_id", "control_id", "entity_id", "reason", "approved_by", "ticket", "approved_on",
              "expires_on", "valid_from", "valid_until"),
             [(e.exception_id, e.control_id, e.entity_id, e.reason, e.approved_by, e.ticket, e.approved_on,
               e.expires_on, e.valid_from, e.valid_until) for e in exceptions.exceptions])
    return len(exceptions.exceptions)


def _manifest_row(path: str, manifest: ExtractManifest) -> dict[str, Any]:
    return {
        "manifest_path": path, "extract_id": manifest.extract_id, "dataset": manifest.dataset_key,
        "source": manifest.source, "kind": manifest.kind.value, "interval_start": manifest.interval_start,
        "interval_end": manifest.interval_end, "status": manifest.status.value, "started_at": manifest.started_at,
        "finished_at": manifest.finished_at, "observed_at": manifest.observed_at,
        "recorded_at": manifest.recorded_at, "rows_written": manifest.rows_written,
        "api_total": manifest.api_total, "pages": manifest.pages, "quarantined": manifest.quarantined,
        "files_written": len(manifest.files_written), "error": manifest.error,
        "duration_s": manifest.duration_s, "dag_id": manifest.run.dag_id, "run_id": manifest.run.run_id,
    }


def sync_manifests(con: duckdb.DuckDBPyConnection, lake: Lake) -> dict[str, int]:
    """Register manifests not yet in `ccm.extract_manifests`; drop rows whose file is gone.

    Returns how many were added, removed and are registered in total.
    """
    import pyarrow as pa

    from ccm.manifests import ExtractManifest

    listed = [p for p in lake.list_files(MANIFEST_DIR) if p.endswith(".json")]
    known = {row[0] for row in con.execute("select manifest_path from ccm.extract_manifests").fetchall()}
    new = [p for p in listed if p not in known]
    gone = known - set(listed)
    if gone:
        con.execute("delete from ccm.extract_manifests where list_contains(?, manifest_path)", [sorted(gone)])
    if new:
        rows = [_manifest_row(p, ExtractManifest.from_json(lake.read_bytes(p).decode())) for p in new]
        timestamp = pa.timestamp("us", tz="UTC")
        schema = pa.schema([
            ("manifest_path", pa.string()), ("extract_id", pa.string()), ("dataset", pa.string()),
            ("source", pa.string()), ("kind", pa.string()), ("interval_start", timestamp),
            ("interval_end", timestamp), ("status", pa.string()), ("started_at", timestamp),
            ("finished_at", timestamp), ("observed_at", timestamp), ("recorded_at", timestamp),
            ("rows_written", pa.int64()), ("api_total", pa.int64()), ("pages", pa.int32()),
            ("quarantined", pa.int64()), ("files_written", pa.int32()), ("error", pa.string()),
            ("duration_s", pa.float64()), ("dag_id", pa.string()), ("run_id", pa.string()),
        ])
        batch = pa.Table.from_pylist(rows, schema=schema)
        con.register("new_manifests", batch)
        try:
            con.execute(f"insert into ccm.extract_manifests ({', '.join(_MANIFEST_COLUMNS)}) "
                        f"select {', '.join(_MANIFEST_COLUMNS)} from new_manifests")
        finally:
            con.unregister("new_manifests")
    total = len(known) - len(gone) + len(new)
    log.info("extract manifests: %s new, %s removed, %s registered", len(new), len(gone), total)
    return {"added": len(new), "removed": len(gone), "registered": total}


def sync_reference_tables(con: duckdb.DuckDBPyConnection, catalog: Catalog, exceptions: ExceptionRegister,
                          lake: Lake) -> dict[str, Any]:
    """Refresh every reference table the marts read, in one transaction."""
    from ccm.warehouse import ensure_schema

    ensure_schema(con)
    con.execute("begin transaction")
    try:
        summary = {
            "controls": sync_control_matrix(con, catalog),
            "datasets": sync_datasets(con),
            "exceptions": sync_exceptions(con, exceptions),
            "manifests": sync_manifests(con, lake),
        }
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return summary
