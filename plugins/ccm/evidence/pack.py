"""The auditor's evidence pack for an observation window (Type II) or a day (Type I).

A directory of static HTML (no scripts, no CDN: it opens from the file system offline)
and data, zipped:

    index.html                  control matrix by criteria, readiness, links
    controls/<control_id>.html  design, status grid per period, sample
    periods/<control_id>/<period>.html   population, failing entities, exceptions,
                                Data Docs, run manifest, inputs, version history
    readiness.html / .json      controls never tested, periods not tested or missing,
                                failures without an exception
    run-history/                Airflow DAG runs and task tries for the window (HTML, CSV, JSON)
    ledger/verification.*       the ledger and the result of verifying it
    datadocs/                   offline renditions of the GX Data Docs for the window
    populations/                CSV of every tested population
    samples/                    a reproducible sample per control
    oscal/assessment-results.json
    evidence/                   the evidence, byte for byte: records, populations, GX
                                results and pages, extract manifests, the whole ledger
    manifest.json, SHA256SUMS   every file's SHA-256

The pack only reads the evidence store. What it shows is the ledger's view (a record not
in the ledger is not evidence), the current version of each period and its history.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ccm import clock
from ccm.config import Settings
from ccm.constants import Status
from ccm.controls.catalog import Catalog, Control, format_duration, load_controls
from ccm.errors import EvidenceError
from ccm.evidence.continuity import ledger_head
from ccm.evidence.datadocs import banner_for, offline_rendition
from ccm.evidence.index import Evaluation, EvidenceIndex
from ccm.evidence.ledger import DIGESTS, ENTRIES, Digest, LedgerEntry
from ccm.evidence.record import EvaluationRecord
from ccm.evidence.records import git_commit
from ccm.evidence.store import EvidenceStore
from ccm.evidence.timestamping import TIMESTAMPS, timestamp_key
from ccm.periods import Period, as_utc, period_containing, periods_closing_in

MISSING = "missing"
POPULATION_ROWS_SHOWN = 500


@dataclass
class PeriodView:
    control_id: str
    start: datetime
    end: datetime
    versions: list[Evaluation] = field(default_factory=list)
    records: list[EvaluationRecord] = field(default_factory=list)
    expected: bool = True
    docs_href: str | None = None
    csv: str | None = None
    run_anchor: str | None = None

    @property
    def label(self) -> str:
        days = (self.end - self.start).days
        return self.start.strftime("%Y-%m-%d") + ("" if days <= 1 else f" to {(self.end - timedelta(days=1)):%Y-%m-%d}")

    @property
    def short_label(self) -> str:
        return self.start.strftime("%Y-%m-%d")

    @property
    def page(self) -> str:
        return f"periods/{self.control_id}/{self.start:%Y-%m-%d}.html"

    @property
    def current(self) -> EvaluationRecord | None:
        return self.records[-1] if self.records else None

    @property
    def status(self) -> str:
        return self.current.status.value if self.current else MISSING

    @property
    def reason(self) -> str:
        return (self.current.reason if self.current else None) or ""

    @property
    def runs(self) -> dict[str, str]:
        return {r.evaluation_id: r.run.run_id for r in self.records}


@dataclass(frozen=True)
class PackResult:
    directory: Path
    zip_path: Path | None
    summary: dict[str, Any]


def _templates() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape
    from markupsafe import Markup

    from ccm.webpolicy import OWN_PAGE_POLICY, csp_meta

    env = Environment(loader=PackageLoader("ccm", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["duration"] = format_duration
    env.globals["csp_meta"] = Markup(csp_meta(OWN_PAGE_POLICY))  # every page: no script (ccm.webpolicy)
    return env


def _expected_periods(control: Control, start: datetime, end: datetime, mode: str) -> list[Period]:
    if mode == "type1":  # the most recent period closed by the end of the as-of day
        period = period_containing(end - timedelta(microseconds=1), control.frequency)
        if period.end > end:
            period = period_containing(period.start - timedelta(microseconds=1), control.frequency)
        return [period]
    return periods_closing_in(start, end, control.frequency)


def _anchor(run_id: str) -> str:
    return "run-" + hashlib.sha256(run_id.encode()).hexdigest()[:12]


class _Writer:
    """Writes files under the pack root, refusing to escape it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, data: bytes | str) -> Path:
        path = (self.root / relative).resolve()
        if self.root.resolve() not in path.parents:
            raise EvidenceError(f"pack path {relative!r} escapes the pack")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path


def build_pack(settings: Settings, out_dir: Path, start: date | None = None, end: date | None = None,
               as_of: date | None = None, store_uri: str | None = None, history_db_url: str | None = None,
               sample_seed: int = 1, make_zip: bool = True, organisation: str = "the service organisation",
               ) -> PackResult:
    """Build the pack into `out_dir/<name>/` (and `<name>.zip`). `end` is inclusive; `as_of` makes a Type I pack."""
    from ccm.evidence.history import default_db_url, read_history, recorded_history
    from ccm.evidence.verify import verify_store, warehouse_rows

    if as_of is not None:
        mode, window_start = "type1", as_utc(as_of)
        window_end = window_start + timedelta(days=1)
        name = f"ccm-evidence-pack_type1_{as_of:%Y-%m-%d}"
        window_label = f"{as_of:%Y-%m-%d}"
    else:
        if start is None or end is None:
            raise EvidenceError("a Type II pack needs --from and --to (or --as-of for Type I)")
        if end < start:
            raise EvidenceError("--to is before --from")
        mode, window_start, window_end = "type2", as_utc(start), as_utc(end) + timedelta(days=1)
        name = f"ccm-evidence-pack_{start:%Y-%m-%d}_{end:%Y-%m-%d}"
        window_label = f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"
    store = EvidenceStore(store_uri or settings.evidence_uri, settings.s3_endpoint_url,
                          settings.evidence_retention_days)
    catalog = load_controls(settings)
    index = EvidenceIndex.load(store)
    root = Path(out_dir) / name
    if root.exists():
        if not (root / "SHA256SUMS").exists() and any(root.iterdir()):
            raise EvidenceError(f"{root} exists and is not an evidence pack; refusing to replace it")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    writer = _Writer(root)
    generated_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    now = clock.now()

    # which periods, which versions --------------------------------------------------------
    groups = index.current(window_start if mode == "type2" else None, window_end)
    views: dict[str, list[PeriodView]] = {}
    for control in catalog:
        limit = min(window_end, as_utc(now)) if mode == "type2" else window_end
        expected = {p.start: p for p in _expected_periods(control, window_start, limit, mode)}
        found = {k[1]: v for k, v in groups.items() if k[0] == control.control_id}
        if mode == "type1":
            closed = [s for s, v in found.items() if index.period_end(v[0]) <= window_end]
            found = {max(closed): found[max(closed)]} if closed else {}
            if found:
                expected = {s: p for s, p in expected.items() if s in found} or expected
        starts = sorted(set(expected) | set(found))
        rows = []
        for period_start in starts:
            versions = found.get(period_start, [])
            period_end = index.period_end(versions[0]) if versions else expected[period_start].end
            view = PeriodView(control.control_id, period_start, period_end, versions,
                              [index.record(v) for v in versions], expected=period_start in expected)
            rows.append(view)
        views[control.control_id] = rows

    # verification, before anything is copied -------------------------------------------------
    rows = warehouse_rows(settings.warehouse_path) if store_uri is None else None
    scope = {"start": window_start, "end": window_end} if mode == "type2" else {"as_of": window_start}
    verification = verify_store(store, warehouse=rows, **scope)

    # the evidence, verbatim --------------------------------------------------------------------
    copied: set[str] = set()

    def copy(key: str | None) -> None:
        if key and key not in copied and store.exists(key):
            writer.write(f"evidence/{key}", store.get(key))
            copied.add(key)

    for key in [*store.list(ENTRIES), *store.list(DIGESTS), *store.list(TIMESTAMPS)]:
        copy(key)
    for entry in index.entries:
        if entry.kind == "run_history" and as_utc(entry.body["window_start"]) < window_end \
                and as_utc(entry.body["window_end"]) > window_start:
            copy(entry.body["path"])
    for period_views in views.values():
        for view in period_views:
            for evaluation, record in zip(view.versions, view.records, strict=True):
                copy(evaluation.record_key)
                for _what, path, _sha256 in record.artefacts():
                    copy(path)
    pack_store = EvidenceStore(str(root / "evidence"))
    pack_verification = verify_store(pack_store, **scope)
    head = ledger_head(pack_store)

    # populations as CSV, Data Docs offline ---------------------------------------------------
    populations = _Populations(store)
    validations = []
    suites: dict[str, str] = {}
    for control in catalog:
        for view in views[control.control_id]:
            for evaluation, record in zip(view.versions, view.records, strict=True):
                population = record.population
                if population:
                    csv_path = f"populations/{control.control_id}/{view.short_label}/v{record.version:03d}.csv"
                    writer.write(csv_path, _parquet_to_csv(populations.get(population.path)))
                    if evaluation is view.versions[-1]:
                        view.csv = csv_path
                gx = record.gx
                if gx and store.exists(gx.docs_path):
                    relative = gx.docs_path.removeprefix("gx/docs/")
                    depth = relative.count("/")
                    back = "../" * (depth + 1) + view.page
                    page = offline_rendition(store.get(gx.docs_path).decode("utf-8"),
                                             banner_for(f"evidence/{gx.docs_path}", gx.docs_sha256, back))
                    writer.write(f"datadocs/{relative}", page)
                    validations.append({"control_id": control.control_id, "period": view.label,
                                        "version": record.version, "status": record.status.value,
                                        "href": relative})
                    if evaluation is view.versions[-1]:
                        view.docs_href = f"datadocs/{relative}"
        suites[control.suite] = _suite_page(store, settings, control, writer)

    # run history ---------------------------------------------------------------------------
    history = None
    history_error = ""
    db_url = history_db_url or default_db_url(settings.data_dir)
    if db_url:
        try:
            history = read_history(db_url, window_start, window_end)
        except Exception as exc:  # recorded in the pack: the auditor must see it is missing and why
            history_error = f"reading {db_url.split('@')[-1]} failed: {type(exc).__name__}: {exc}"
    else:
        history_error = "no Airflow metadata database configured (set CCM_AIRFLOW_DB_URL)"
    if history is None:  # the copy recorded in the evidence store for this window, if there is one
        recorded = recorded_history(store, window_start, window_end)
        if recorded is not None:
            history = recorded[0]
            history = type(history)(f"{history.source} (as recorded in the evidence store: {recorded[1]})",
                                    history.window_start, history.window_end, history.dag_runs, history.task_tries)
    anchors: dict[str, str] = {}
    if history is not None:
        anchors = {r.run_id: _anchor(r.run_id) for r in history.dag_runs}
        writer.write("run-history/run-history.json", json.dumps(history.to_dict(), indent=1))
        writer.write("run-history/dag_runs.csv", _rows_to_csv([r.__dict__ for r in history.dag_runs]))
        writer.write("run-history/task_tries.csv", _rows_to_csv([t.__dict__ for t in history.task_tries]))
    else:
        writer.write("run-history/dag_runs.csv", "")
        writer.write("run-history/task_tries.csv", "")
    for period_views in views.values():
        for view in period_views:
            if view.current and view.current.run.run_id in anchors:
                view.run_anchor = anchors[view.current.run.run_id]

    # samples ---------------------------------------------------------------------------------
    from ccm.evidence.sampling import draw_sample

    samples: dict[str, Any] = {}
    for control in catalog:
        tested = [v for v in views[control.control_id] if v.current and v.current.population]
        if tested:
            # Type II: the window; Type I: the period shown (a monthly control's last month may end before as-of)
            sample_start = window_start if mode == "type2" else min(v.start for v in tested)
            sample_end = window_end if mode == "type2" else max(v.end for v in tested)
            sample = draw_sample(index, control.control_id, control.frequency, sample_start, sample_end, sample_seed)
            samples[control.control_id] = {**sample.to_dict(), "redraw": (
                f"ccm evidence sample --control {control.control_id} --from {sample_start:%Y-%m-%d} "
                f"--to {sample_end - timedelta(days=1):%Y-%m-%d} --seed {sample_seed}")}
            writer.write(f"samples/{control.control_id}.json", json.dumps(samples[control.control_id], indent=1,
                                                                          default=str))
            writer.write(f"samples/{control.control_id}.csv", sample.to_csv())

    # readiness -------------------------------------------------------------------------------
    readiness = _readiness(catalog, views, root_prefix="")
    writer.write("readiness.json", json.dumps({**readiness, "verification_ok": verification.ok}, indent=1,
                                              default=str))

    # OSCAL -------------------------------------------------------------------------------------
    from ccm.evidence.oscal import assessment_results

    oscal_periods = []
    for control in catalog:
        for view in views[control.control_id]:
            record = view.current
            oscal_periods.append({
                "control_id": control.control_id, "period_start": view.start.isoformat(),
                "period_end": view.end.isoformat(), "status": view.status,
                "version": record.version if record else None,
                "record_href": f"../evidence/{view.versions[-1].record_key}" if view.versions else None,
                "population_href": f"../{view.csv}" if view.csv else None,
                "gx_result_href": f"../evidence/{record.gx.result_path}" if record and record.gx else None,
                "failing": list(record.failing_entity_ids) if record else [],
                "excepted": list(record.excepted_entity_ids) if record else [],
                "reason": record.reason if record else None,
                "evaluated_at": record.run.finished_at if record else None,
            })
    title = f"SOC 2 {'Type II' if mode == 'type2' else 'Type I'} evidence: {window_label}"
    oscal = assessment_results(
        title=title, window_start=window_start.isoformat(), window_end=window_end.isoformat(),
        generated_at=generated_at, mode=mode, organisation=organisation,
        controls=[{"control_id": c.control_id, "title": c.title, "description": c.description,
                   "criteria": list(c.criteria), "owner": c.owner, "frequency": c.frequency.value} for c in catalog],
        periods=oscal_periods)
    writer.write("oscal/assessment-results.json", json.dumps(oscal, indent=1))

    # HTML ----------------------------------------------------------------------------------------
    env = _templates()
    pack = {"title": title, "mode": mode, "window_label": window_label, "generated_at": generated_at,
            "ledger_head": head,
            "code_version": git_commit(settings.project_dir), "store": store.uri,
            "window_from": f"{window_start:%Y-%m-%d}", "window_to": f"{(window_end - timedelta(days=1)):%Y-%m-%d}"}
    totals: dict[str, int] = {"periods": 0}
    control_stats: dict[str, dict[str, int]] = {}
    for control_id, period_views in views.items():
        stats = {"periods": len(period_views)}
        for view in period_views:
            stats[view.status] = stats.get(view.status, 0) + 1
            totals[view.status] = totals.get(view.status, 0) + 1
        totals["periods"] += len(period_views)
        control_stats[control_id] = stats
    history_summary = ("not exported: " + history_error) if history is None else (
        f"{history.summary()['dag_runs']} DAG runs, {history.summary()['tasks_retried']} tasks retried "
        f"(<a href=\"run-history/index.html\">details</a>)")
    from markupsafe import Markup

    common = {"pack": pack, "verification": verification.to_dict()}
    writer.write("index.html", env.get_template("evidence/index.html.j2").render(
        root="", controls=list(catalog), totals=totals, readiness=readiness, matrix=list(catalog.by_criterion().items()),
        control_stats=control_stats, history_summary=Markup(history_summary) if history else history_summary,
        **common))
    writer.write("readiness.html", env.get_template("evidence/readiness.html.j2").render(
        root="", readiness=readiness, **common))
    for control in catalog:
        design = _design(settings, control, views[control.control_id], suites.get(control.suite))
        writer.write(f"controls/{control.control_id}.html", env.get_template("evidence/control.html.j2").render(
            root="../", control=control, periods=views[control.control_id], design=design,
            sample=samples.get(control.control_id), **common))
        for view in views[control.control_id]:
            rows, columns, truncated = _population_preview(populations, view.current)
            exceptions_by_entity = {x.entity_id: x for x in (view.current.exceptions_applied if view.current else ())}
            writer.write(view.page, env.get_template("evidence/period.html.j2").render(
                root="../../", control=control, p=view, population_rows=rows, population_columns=columns,
                population_truncated=truncated, exceptions_by_entity=exceptions_by_entity, **common))
    by_run: dict[str, list[Any]] = {}
    if history is not None:
        for t in history.task_tries:
            by_run.setdefault(t.run_id, []).append(t)
    writer.write("run-history/index.html", env.get_template("evidence/history.html.j2").render(
        root="../", history=history, history_error=history_error, anchors=anchors, tries=by_run,
        summary=history.summary() if history else {}, **common))
    entries = []
    for key in store.list(ENTRIES):
        entry = LedgerEntry.from_bytes(store.get(key))
        entries.append({**entry.__dict__, "key": key})
    digests = []
    for key in store.list(DIGESTS):
        digest = Digest.from_bytes(store.get(key))
        token = timestamp_key(digest.digest_seq)
        digests.append({**digest.__dict__, "key": key, "timestamp": token if token in copied else None})
    verification_doc = {"store": verification.to_dict(), "pack": pack_verification.to_dict()}
    writer.write("ledger/verification.json", json.dumps(verification_doc, indent=1))
    writer.write("ledger/verification.html", env.get_template("evidence/verification.html.j2").render(
        root="../", checks=[("The evidence store", verification.to_dict()),
                            ("This pack's copy of the evidence", pack_verification.to_dict())],
        entries=entries, digests=digests, **common))
    writer.write("datadocs/index.html", env.get_template("evidence/datadocs_index.html.j2").render(
        root="../", suites=sorted((s, h.removeprefix("datadocs/")) for s, h in suites.items() if h),
        validations=validations, **common))

    # manifest, checksums, zip ---------------------------------------------------------------------
    summary = {"name": name, "mode": mode, "window_start": window_start.isoformat(),
               "window_end": window_end.isoformat(), "generated_at": generated_at, "totals": totals,
               "verification_ok": verification.ok, "pack_verification_ok": pack_verification.ok,
               "ledger_head": head,
               "findings": [str(f) for f in verification.findings],
               "run_history": history.summary() if history else None,
               "readiness": {k: len(v) for k, v in readiness.items()}}
    files = _checksums(root)
    writer.write("manifest.json", json.dumps({**summary, "files": [
        {"path": p, "sha256": h, "bytes": (root / p).stat().st_size} for p, h in files]}, indent=1))
    files = _checksums(root)
    writer.write("SHA256SUMS", "".join(f"{h}  {p}\n" for p, h in files))
    zip_path = None
    if make_zip:
        zip_path = Path(out_dir) / f"{name}.zip"
        _zip(root, zip_path)
    _point_latest_at(Path(out_dir), name)
    return PackResult(root, zip_path, summary)


LATEST = "latest"


def _point_latest_at(out_dir: Path, name: str) -> None:
    """`<out_dir>/latest` is a relative symlink to the most recent pack: the dashboard and the
    Airflow UI link there. Replaced atomically (a new link, then rename)."""
    link = out_dir / LATEST
    tmp = out_dir / f".tmp-{os.getpid()}-{LATEST}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(name, target_is_directory=True)
    tmp.replace(link)


# helpers -------------------------------------------------------------------------------------

class _Populations:
    """Population files read once per pack (CSV, page preview), from the verified store bytes."""

    def __init__(self, store: EvidenceStore) -> None:
        self.store = store
        self._tables: dict[str, Any] = {}

    def get(self, path: str) -> Any:
        if path not in self._tables:
            import pyarrow.parquet as pq

            self._tables = {path: pq.read_table(io.BytesIO(self.store.get(path)))}  # keep one: memory stays flat
        return self._tables[path]


def _parquet_to_csv(table: Any) -> str:
    return _rows_to_csv(table.to_pylist(), columns=table.column_names)


def _rows_to_csv(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    buffer = io.StringIO()
    columns = columns or (list(rows[0]) if rows else [])
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return buffer.getvalue()


def _csv_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, default=str)
    return value


def _population_preview(populations: _Populations, record: EvaluationRecord | None,
                        ) -> tuple[list[dict[str, Any]], list[str], bool]:
    if not record or not record.population:
        return [], [], False
    table = populations.get(record.population.path)
    columns = [c for c in table.column_names if c not in ("raw", "source_ref", "period_start", "period_end")]
    failing = set(record.failing_entity_ids)
    rows = table.select(columns).to_pylist()
    rows.sort(key=lambda r: (str(r.get("entity_id")) not in failing, str(r.get("entity_id"))))
    return rows[:POPULATION_ROWS_SHOWN], columns, len(rows) > POPULATION_ROWS_SHOWN


def _suite_page(store: EvidenceStore, settings: Settings, control: Control, writer: _Writer) -> str | None:
    """The suite's Data Docs page (offline), from the store's current site or rendered from the suite file."""
    key = f"gx/docs/expectations/{control.suite}.html"
    relative = f"datadocs/expectations/{control.suite}.html"
    if store.exists(key):
        page = offline_rendition(store.get(key).decode("utf-8"),
                                 banner_for(f"{key} (the suite as rendered at the last run)", None, "../index.html"))
        writer.write(relative, page)
        return relative
    path = settings.gx_dir / "suites" / f"{control.suite}.json"
    if not path.exists():
        return None
    import html

    doc = json.loads(path.read_text())
    items = "".join(f"<tr><td>{html.escape(e['type'])}</td><td><code>{html.escape(json.dumps(e.get('kwargs', {})))}"
                    f"</code></td><td>{html.escape((e.get('meta') or {}).get('notes', ''))}</td></tr>"
                    for e in doc.get("expectations", []))
    from ccm.webpolicy import OWN_PAGE_POLICY, csp_meta

    writer.write(relative, f"<!doctype html><html><head><meta charset='utf-8'>{csp_meta(OWN_PAGE_POLICY)}"
                           f"<title>{html.escape(control.suite)}"
                           f"</title></head><body><p><a href='../index.html'>Data Docs</a></p><h1>"
                           f"{html.escape(control.suite)}</h1><table><tr><th>Expectation</th><th>Arguments</th>"
                           f"<th>What it checks</th></tr>{items}</table></body></html>")
    return relative


def _design(settings: Settings, control: Control, views: list[PeriodView], suite_page: str | None) -> dict[str, Any]:
    from ccm.evidence.records import file_hash_or_none

    path = settings.gx_dir / "suites" / f"{control.suite}.json"
    expectations = []
    if path.exists():
        for e in json.loads(path.read_text()).get("expectations", []):
            kwargs = ", ".join(f"{k}={v}" for k, v in sorted(e.get("kwargs", {}).items()))
            expectations.append({"type": e["type"], "kwargs": kwargs, "notes": (e.get("meta") or {}).get("notes")})
    latest = next((v.current for v in reversed(views) if v.current), None)
    code = latest.code if latest else None
    return {"expectations": expectations, "suite_page": suite_page,
            "gx_suite_sha256": (code.gx_suite_sha256 if code else None) or file_hash_or_none(path),
            "dbt_model_path": code.dbt_model_path if code else None,
            "dbt_model_sha256": code.dbt_model_sha256 if code else None}


def _readiness(catalog: Catalog, views: dict[str, list[PeriodView]], root_prefix: str) -> dict[str, list[Any]]:
    tested = {Status.PASS.value, Status.FAIL.value, Status.EXCEPTED.value}
    never, missing, not_tested, failures = [], [], [], []
    for control in catalog:
        period_views = views[control.control_id]
        if not any(v.status in tested for v in period_views):
            never.append(control.control_id)
        for view in period_views:
            item = {"control_id": control.control_id, "period": view.label, "page": root_prefix + view.page}
            if view.status == MISSING:
                missing.append(item)
            elif view.status == Status.NOT_TESTED.value:
                not_tested.append({**item, "reason": view.reason})
            elif view.status == Status.FAIL.value:
                uncovered = list(view.current.uncovered_entity_ids) if view.current else []
                failures.append({**item, "uncovered": uncovered})
    return {"never_tested": never, "missing": missing, "not_tested": not_tested, "failures": failures}


def _checksums(root: Path) -> list[tuple[str, str]]:
    from ccm.evidence.store import sha256_file

    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and relative not in ("SHA256SUMS", "manifest.json"):
            found.append((relative, sha256_file(path)))
    manifest = root / "manifest.json"
    if manifest.exists():
        found.append(("manifest.json", sha256_file(manifest)))
    return sorted(found)


def _zip(root: Path, zip_path: Path) -> None:
    tmp = zip_path.with_name(f".tmp-{os.getpid()}-{zip_path.name}")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, f"{root.name}/{path.relative_to(root).as_posix()}")
    tmp.replace(zip_path)
