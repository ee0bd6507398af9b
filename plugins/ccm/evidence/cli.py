"""`ccm evidence …`: verify the store, seal the ledger, show a control-period, draw samples, build packs.

Dates are UTC calendar days. `--to` is inclusive (an observation window "2025-10-01 to
2026-03-31" is `--from 2025-10-01 --to 2026-03-31`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

evidence_app = typer.Typer(no_args_is_help=True, help="The Type II evidence trail: verify, show, sample, pack.")
console = Console(soft_wrap=True)

DateOption = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])]
StoreOption = Annotated[str | None, typer.Option(
    "--store", help="evidence store to read (directory or s3://bucket/prefix); default: the configured one")]


def _settings():
    from ccm.config import Settings

    return Settings.from_env()


def _store(store: str | None):
    from ccm.evidence.store import EvidenceStore

    settings = _settings()
    return EvidenceStore(store or settings.evidence_uri, settings.s3_endpoint_url, settings.evidence_retention_days)


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    from ccm.periods import as_utc

    return (as_utc(start) if start else None, as_utc(end) + timedelta(days=1) if end else None)


@evidence_app.command("verify")
def verify(
    start: Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"])] = None,
    end: Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="inclusive")] = None,
    store: StoreOption = None,
    warehouse: Annotated[Path | None, typer.Option(
        help="cross-check ccm.control_results of this DuckDB file (default: the configured warehouse, "
             "unless --store is given)")] = None,
    as_of: Annotated[datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help=(
        "Type I scope: each control's latest period closed by the end of this day"))] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    public_key: Annotated[str | None, typer.Option(
        "--public-key", help="the owner's Ed25519 public key (PEM text or file) to pin; default: "
                             "CCM_LEDGER_PUBLIC_KEY")] = None,
    require_pinned: Annotated[bool, typer.Option(
        "--require-pinned", help="fail unless every digest is signed by the pinned public key")] = False,
    tsa_roots: Annotated[str | None, typer.Option(
        "--tsa-roots", help="the time-stamping authority's root certificate(s) (PEM text or file) to check the "
                            "RFC 3161 tokens under; default: CCM_TSA_ROOTS")] = None,
    require_timestamp: Annotated[bool, typer.Option(
        "--require-timestamp", help="fail unless the latest digest has a valid timestamp token")] = False,
    since_pack: Annotated[Path | None, typer.Option(
        "--since-pack", help="an earlier evidence pack (folder or .zip): fail if the history it holds was "
                             "rewritten since")] = None,
) -> None:
    """Recompute the ledger chain, digests, records and artefacts; exit 1 naming every finding.
    The last line says what vouches for the ledger: the pinned key, a timestamp, an earlier pack, an unpinned
    key, or only the operator."""
    import os

    from ccm.evidence.signing import PUBLIC_KEY_ENV
    from ccm.evidence.timestamping import TSA_ROOTS_ENV
    from ccm.evidence.verify import Trust, verify_store, warehouse_rows

    settings = _settings()
    evidence = _store(store)
    rows = warehouse_rows(warehouse or settings.warehouse_path) if (warehouse or store is None) else None
    window_start, window_end = _window(start, end)
    env = {**os.environ, **({PUBLIC_KEY_ENV: public_key} if public_key else {}),
           **({TSA_ROOTS_ENV: tsa_roots} if tsa_roots else {})}
    report = verify_store(evidence, window_start, window_end, rows, env=env, as_of=as_of,
                          require_pinned=require_pinned, require_timestamp=require_timestamp, since_pack=since_pack)
    if as_json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        counts = ", ".join(f"{v} {k}" for k, v in report.counts.items())
        console.print(f"verified {evidence.uri}: {counts}")
        for note in report.notes:
            console.print(f"  note: {note}")
        for finding in report.findings:
            console.print(f"[red]  {finding}[/]", highlight=False)
        vouched = report.trust is Trust.PINNED or report.anchor is not None or report.since_pack is not None
        colour = "green" if report.ok and vouched else "yellow" if report.ok else "red"
        console.print(f"[{colour}]{report.summary}[/]", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@evidence_app.command("seal")
def seal(store: StoreOption = None) -> None:
    """Close a digest over the ledger entries appended since the last one (signed if a key is set)."""
    from ccm import clock
    from ccm.evidence.ledger import Ledger
    from ccm.evidence.records import actor
    from ccm.evidence.signing import signer_from_env
    from ccm.evidence.timestamping import TimestampAuthority, timestamp_key

    evidence = _store(store)
    digest = Ledger(evidence).seal({"actor": actor(), "dag_id": "cli", "run_id": "", "task_id": "seal",
                                    "try_number": 1}, clock.now().isoformat(), signer_from_env(),
                                   TimestampAuthority.from_env())
    if digest is None:
        console.print("nothing to seal: every entry is covered by a digest")
        return
    signed = f", signed {digest.signature['algorithm']} key {digest.signature['key_id']}" if digest.signature else ""
    stamped = ", timestamped" if evidence.exists(timestamp_key(digest.digest_seq)) else ""
    console.print(f"digest {digest.digest_seq} seals entries {digest.from_seq}..{digest.to_seq}{signed}{stamped}")


@evidence_app.command("timestamp")
def timestamp(store: StoreOption = None) -> None:
    """Obtain RFC 3161 tokens from the time-stamping authority (CCM_TSA_URL) for every digest that has
    none (the TSA was down at the seal). Each token proves its own time, not the seal's."""
    from ccm.errors import ConfigError
    from ccm.evidence.timestamping import TSA_URL_ENV, TimestampAuthority, stamp_missing

    authority = TimestampAuthority.from_env()
    if authority is None:
        raise ConfigError(f"no time-stamping authority configured: set {TSA_URL_ENV}")
    stamped, failed = stamp_missing(_store(store), authority)
    console.print(f"timestamped {len(stamped)} digest(s)" + (f": {stamped[0]}..{stamped[-1]}" if stamped else ""))
    if failed:
        console.print(f"[red]the TSA failed for digest(s) {', '.join(map(str, failed))}[/]", highlight=False)
        raise typer.Exit(1)


@evidence_app.command("rotate-key")
def rotate_key(
    new_key: Annotated[str, typer.Option("--new-key", help="the new Ed25519 private key (PEM text or file)")],
    store: StoreOption = None,
) -> None:
    """Hand the ledger to a new signing key: a key_rotation entry naming it, signed by the current key
    (CCM_LEDGER_SIGNING_KEY), sealed by a digest signed with the new key. Then set CCM_LEDGER_SIGNING_KEY
    to the new key, and give auditors its public key to pin."""
    from ccm import clock
    from ccm.errors import ConfigError
    from ccm.evidence.ledger import rotate_key as rotate
    from ccm.evidence.records import actor
    from ccm.evidence.signing import SIGNING_KEY_ENV, signer_from_env
    from ccm.evidence.timestamping import TimestampAuthority

    previous = signer_from_env()
    if previous is None:
        raise ConfigError("no current ledger key: the rotation must be signed by it (set CCM_LEDGER_SIGNING_KEY)")
    new = signer_from_env({SIGNING_KEY_ENV: new_key})
    entry, digest = rotate(_store(store), previous, new, {"actor": actor(), "dag_id": "cli", "run_id": "",
                                                          "task_id": "rotate-key", "try_number": 1},
                           clock.now().isoformat(), TimestampAuthority.from_env())
    console.print(f"ledger entry {entry.seq}: key {previous.key_id} hands over to key {new.key_id}; "
                  f"digest {digest.digest_seq if digest else '-'} signed by the new key")


@evidence_app.command("history")
def history(
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"])],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="inclusive")],
    airflow_db: Annotated[str | None, typer.Option(help="SQLAlchemy URL of Airflow's metadata DB")] = None,
    record: Annotated[bool, typer.Option(help="copy it into the evidence store and the ledger")] = False,
    store: StoreOption = None,
) -> None:
    """Airflow run history (DAG runs, every task try) for a window; --record keeps it as evidence."""
    from ccm import clock
    from ccm.errors import EvidenceError
    from ccm.evidence.history import default_db_url, read_history, record_history

    url = airflow_db or default_db_url(_settings().data_dir)
    if not url:
        raise EvidenceError("no Airflow metadata DB: pass --airflow-db or set CCM_AIRFLOW_DB_URL")
    window_start, window_end = _window(start, end)
    found = read_history(url, window_start, window_end)
    table = Table("dag", "data interval", "state", "run", "tries", "failed tries")
    for run in found.dag_runs:
        tries = [t for t in found.task_tries if t.run_id == run.run_id and t.dag_id == run.dag_id]
        table.add_row(run.dag_id, (run.data_interval_start or "")[:10], run.state or "", run.run_id, str(len(tries)),
                      str(sum(1 for t in tries if t.state in ("failed", "up_for_retry"))))
    console.print(table)
    console.print(found.summary())
    if record:
        key, seq = record_history(_store(store), found, clock.now().isoformat())
        console.print(f"recorded as {key} (ledger entry {seq}); it is sealed by the next digest")


@evidence_app.command("show")
def show(
    control: Annotated[str, typer.Argument(help="control_id")],
    period: Annotated[datetime, typer.Argument(formats=["%Y-%m-%d"], help="any day in the period")],
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the current record as JSON")] = False,
) -> None:
    """Print the evidence of one control-period: result, population, test, run, code, inputs, versions."""
    from ccm.evidence.index import EvidenceIndex

    index = EvidenceIndex.load(_store(store))
    versions = index.find_period(control, period)
    current = versions[-1]
    record = index.record(current)
    if as_json:
        print(record.to_json_bytes().decode())
        return
    console.print(f"[bold]{control}[/] {record.control.title}  ({', '.join(record.control.criteria)}, "
                  f"{record.control.frequency.value}, owner {record.control.owner})")
    console.print(f"period      {record.period.start.isoformat()} .. {record.period.end.isoformat()}")
    console.print(f"status      [bold]{record.status.value}[/] (version {record.version} of {len(versions)}, "
                  f"ledger entry {current.seq}, evaluation {record.evaluation_id})")
    if record.reason:
        console.print(f"reason      {record.reason}")
    population = record.population
    if population:
        console.print(f"population  {population.rows} rows  {population.path}  sha256 {population.sha256}")
    if record.failing_entity_ids:
        console.print(f"failing     {', '.join(record.failing_entity_ids)}")
    for exception in record.exceptions_applied:
        console.print(f"exception   {exception.exception_id} {exception.entity_id}: approved by "
                      f"{exception.approved_by} on {exception.approved_on}, expires {exception.expires_on}, "
                      f"ticket {exception.ticket}")
    gx = record.gx
    if gx:
        console.print(f"GX result   {gx.result_id or gx.result_path}  sha256 {gx.result_sha256}")
        console.print(f"Data Docs   {gx.docs_path}")
    run = record.run
    console.print(f"run         {run.dag_id} {run.run_id} task {run.task_id} try {run.try_number}, "
                  f"{run.started_at} .. {run.finished_at}")
    code = record.code
    console.print(f"code        git {code.git_commit}; dbt {code.dbt_model} {code.dbt_model_sha256} "
                  f"(compiled {code.dbt_compiled_sha256}); suite {code.gx_suite} {code.gx_suite_sha256}")
    for dataset in record.inputs.datasets:
        manifests = [m.path for m in dataset.manifests]
        console.print(f"input       {dataset.dataset}: {'complete' if dataset.complete else 'INCOMPLETE'}, "
                      f"observed {dataset.observed_at or '-'}, {len(dataset.files)} files, "
                      f"manifests {', '.join(manifests) or '-'}")
    table = Table("version", "status", "recorded", "ledger", "run", "record")
    for version in versions:
        run_id = index.record(version).run.run_id
        table.add_row(str(version.version), version.status, version.recorded_at, str(version.seq), run_id,
                      version.record_key)
    console.print(table)


@evidence_app.command("pack")
def pack(
    out: Annotated[Path, typer.Option("--out", help="directory to write the pack (and its .zip) into")],
    start: Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"])] = None,
    end: Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="inclusive")] = None,
    as_of: Annotated[datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"],
                                                   help="Type I: control design and this day's results")] = None,
    store: StoreOption = None,
    airflow_db: Annotated[str | None, typer.Option(
        help="SQLAlchemy URL of Airflow's metadata DB (default: CCM_AIRFLOW_DB_URL, "
             "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, or the demo's SQLite file)")] = None,
    sample_seed: Annotated[int, typer.Option(help="seed of the sample drawn for each control")] = 1,
    organisation: Annotated[str, typer.Option(help="the service organisation, for the OSCAL metadata")] =
        "the service organisation",
    zip_pack: Annotated[bool, typer.Option("--zip/--no-zip")] = True,
) -> None:
    """Build the auditor's pack for a window (Type II) or a day (--as-of, Type I)."""
    from ccm.evidence.pack import build_pack

    result = build_pack(_settings(), out, start.date() if start else None, end.date() if end else None,
                        as_of.date() if as_of else None, store, airflow_db, sample_seed, zip_pack, organisation)
    summary = result.summary
    totals = ", ".join(f"{k} {v}" for k, v in summary["totals"].items())
    console.print(f"pack {summary['name']}: {totals}")
    console.print(f"verification: {'OK' if summary['verification_ok'] else 'FAILED'}"
                  + "".join(f"\n  {f}" for f in summary["findings"]))
    console.print(f"readiness: {summary['readiness']}")
    console.print(f"open {result.directory / 'index.html'}" + (f"\nzip  {result.zip_path}" if result.zip_path else ""))
    if not summary["verification_ok"]:
        raise typer.Exit(1)


@evidence_app.command("sample")
def sample(
    control: Annotated[str, typer.Option("--control", help="control_id")],
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"])],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="inclusive")],
    seed: Annotated[int, typer.Option(help="any integer; record it with the sample")],
    size: Annotated[int | None, typer.Option(help="default: by frequency or population size (see the guide)")] = None,
    store: StoreOption = None,
    out: Annotated[Path | None, typer.Option(help="write <control>_<from>_<to>_seed<S>.json and .csv here")] = None,
) -> None:
    """Draw a reproducible sample from the window's populations (same seed and frame: same sample)."""
    from ccm.controls.catalog import load_controls
    from ccm.evidence.index import EvidenceIndex
    from ccm.evidence.sampling import draw_sample

    frequency = load_controls(_settings()).get(control).frequency
    window_start, window_end = _window(start, end)
    drawn = draw_sample(EvidenceIndex.load(_store(store)), control, frequency, window_start, window_end, seed, size)
    console.print(f"{control} {start:%Y-%m-%d}..{end:%Y-%m-%d}: {drawn.size} of {drawn.frame_size} items "
                  f"({drawn.size_basis}); seed {drawn.seed}; frame sha256 {drawn.frame_sha256}")
    table = Table("#", "period", "entity_id", "rank")
    for position, item in enumerate(drawn.items, start=1):
        table.add_row(str(position), item["period_start"][:10], item["entity_id"], item["rank"][:16])
    console.print(table)
    if out:
        out.mkdir(parents=True, exist_ok=True)
        stem = f"{control}_{start:%Y-%m-%d}_{end:%Y-%m-%d}_seed{seed}"
        (out / f"{stem}.json").write_text(json.dumps(drawn.to_dict(), indent=1, default=str))
        (out / f"{stem}.csv").write_text(drawn.to_csv())
        console.print(f"written {out / stem}.json and .csv")
