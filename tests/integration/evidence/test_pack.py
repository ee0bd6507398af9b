"""The auditor's pack over the real evidence store: contents, checksums, versions, run history,
OSCAL, Type I, and (in headless Chromium) every link of every page resolves, offline."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from ccm.evidence.pack import build_pack
from ccm.evidence.record import EvaluationRecord
from ccm.evidence.store import EvidenceStore
from ccm.evidence.verify import verify_store
from ccm.report import current_results
from tests.integration.evidence.conftest import RERUN_ID, populate_airflow_db

pytestmark = pytest.mark.integration

@pytest.fixture(scope="module")
def airflow_db(tmp_path_factory, evidence_run) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('airflow-db') / 'airflow.db'}"
    populate_airflow_db(url, evidence_run.window_start, evidence_run.days, evidence_run.rerun_start)
    return url


@pytest.fixture(scope="module")
def pack(tmp_path_factory, evidence_run, airflow_db):
    out = tmp_path_factory.mktemp("packs")
    start = evidence_run.window_start.date()
    end = start + timedelta(days=evidence_run.days - 1)
    return build_pack(evidence_run.settings, out, start, end, history_db_url=airflow_db, sample_seed=7,
                      organisation="Kestrel Labs")


def _records(evidence_run) -> list[EvaluationRecord]:
    store = EvidenceStore(evidence_run.settings.evidence_uri)
    return [EvaluationRecord.from_json(store.get(k)) for k in store.list("evaluations")]


def test_the_pack_summarises_the_window(pack, evidence_run):
    records = _records(evidence_run)
    current = {}
    for record in sorted(records, key=lambda r: r.version):
        current[record.period.start] = record
    expected: dict[str, int] = {"periods": evidence_run.days}
    for record in current.values():
        expected[record.status.value] = expected.get(record.status.value, 0) + 1
    assert pack.summary["totals"] == expected
    assert {"pass", "fail", "excepted", "not_tested"} <= set(expected)
    assert pack.summary["verification_ok"] and pack.summary["pack_verification_ok"]
    readiness = json.loads((pack.directory / "readiness.json").read_text())
    assert len(readiness["not_tested"]) == expected["not_tested"]
    assert len(readiness["failures"]) == expected["fail"] and readiness["never_tested"] == []
    assert all(f["uncovered"] for f in readiness["failures"])


def test_every_file_is_in_the_checksums_and_the_zip(pack):
    sums = {}
    for line in (pack.directory / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split("  ", 1)
        sums[path] = digest
    files = {p.relative_to(pack.directory).as_posix() for p in pack.directory.rglob("*") if p.is_file()}
    assert set(sums) == files - {"SHA256SUMS"}
    for path, digest in sums.items():
        assert hashlib.sha256((pack.directory / path).read_bytes()).hexdigest() == digest, path
    with zipfile.ZipFile(pack.zip_path) as archive:
        names = {n.split("/", 1)[1] for n in archive.namelist()}
    assert names == files


def test_the_pack_carries_verifiable_evidence_and_populations(pack, evidence_run):
    window_start = evidence_run.window_start
    report = verify_store(EvidenceStore(str(pack.directory / "evidence")), window_start,
                          window_start + timedelta(days=evidence_run.days))
    assert report.ok and report.counts["records"] == evidence_run.days + 1
    record = next(r for r in _records(evidence_run) if r.population)
    label = record.period.label
    rows = list(csv.DictReader(io.StringIO(
        (pack.directory / f"populations/iam_okta_mfa/{label}/v{record.version:03d}.csv").read_text())))
    assert len(rows) == record.population.rows
    assert {r["entity_id"] for r in rows} >= set(record.failing_entity_ids)


def test_a_rerun_period_shows_the_current_version_and_its_history(pack, evidence_run):
    label = f"{evidence_run.rerun_start:%Y-%m-%d}"
    page = (pack.directory / f"periods/iam_okta_mfa/{label}.html").read_text()
    assert "2 versions" in page and "v2 (current)" in page and "v1</td>" in page
    assert RERUN_ID in page  # the current version's run, linked into the run history
    grid = (pack.directory / "controls/iam_okta_mfa.html").read_text()
    assert f"{label} ·v2" in grid


def test_the_run_history_shows_runs_failures_and_retries(pack):
    runs = list(csv.DictReader(io.StringIO((pack.directory / "run-history/dag_runs.csv").read_text())))
    tries = list(csv.DictReader(io.StringIO((pack.directory / "run-history/task_tries.csv").read_text())))
    assert len(runs) == 7 and "scheduled__2025-12-01" not in {r["run_id"] for r in runs}
    assert sorted(r["state"] for r in runs).count("failed") == 1
    retried = [t for t in tries if t["task_id"] == "extract_okta.users" and t["run_id"].startswith("scheduled__2025-10-04")]
    assert sorted((t["try_number"], t["state"]) for t in retried) == [("1", "failed"), ("2", "failed")]
    assert pack.summary["run_history"]["tasks_retried"] == 1


def test_the_oscal_document_is_valid_assessment_results(pack, evidence_run):
    from trestle.oscal.assessment_results import AssessmentResults

    document = json.loads((pack.directory / "oscal/assessment-results.json").read_text())
    model = AssessmentResults.model_validate(document["assessment-results"])
    result = model.results[0]
    assert len(result.observations) == evidence_run.days
    assert [f.target.status.state.value for f in result.findings] == ["not-satisfied"]  # the window has failures
    assert [c.control_id for c in result.reviewed_controls.control_selections[0].include_controls] == ["cc6.1"]
    for observation in result.observations:
        for evidence in observation.relevant_evidence or []:
            assert (pack.directory / "oscal" / evidence.href).resolve().is_file()


def test_a_type_one_pack_shows_the_design_and_one_days_results(tmp_path, evidence_run):
    day = evidence_run.window_start.date() + timedelta(days=3)
    result = build_pack(evidence_run.settings, tmp_path, as_of=day, make_zip=False)
    assert result.summary["mode"] == "type1" and result.summary["totals"]["periods"] == 1
    assert result.summary["verification_ok"] and result.summary["pack_verification_ok"]
    assert "--as-of" in (result.directory / "ledger/verification.html").read_text()
    index = (result.directory / "index.html").read_text()
    assert "Type I" in index and f"as of <strong>{day:%Y-%m-%d}</strong>" in index
    control = (result.directory / "controls/iam_okta_mfa.html").read_text()
    assert "What the test checks" in control and "active_factor_count" in control
    assert [p.name for p in (result.directory / "periods/iam_okta_mfa").iterdir()] == [f"{day:%Y-%m-%d}.html"]


def test_a_control_never_tested_is_reported(tmp_path, evidence_run):
    """Generic over the control matrix: a second control with no evidence is a readiness gap."""
    controls = tmp_path / "controls.yml"
    text = Path(evidence_run.settings.controls_path).read_text()
    controls.write_text(text + """
  - control_id: chg_pr_review
    title: Pull requests are reviewed
    description: Every merged pull request had an approving review.
    criteria: [CC8.1]
    owner: Engineering
    frequency: monthly
    sources:
      - {dataset: okta.users, freshness: 6h}
""")
    settings = evidence_run.settings.with_overrides(controls_path=controls)
    start = evidence_run.window_start.date()
    result = build_pack(settings, tmp_path / "out", start, start + timedelta(days=5), make_zip=False)
    readiness = json.loads((result.directory / "readiness.json").read_text())
    assert readiness["never_tested"] == ["chg_pr_review"]
    assert "CC8.1" in (result.directory / "index.html").read_text()
    assert result.summary["totals"]["periods"] == evidence_run.days  # no monthly period closed in the window


@pytest.mark.browser
def test_every_link_resolves_offline_in_chromium(pack, browser):
    root = pack.directory.resolve()
    broken, external, visited = [], [], set()
    page = browser.new_page()
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    queue = [(root / "index.html").as_uri()]
    while queue:
        url = queue.pop()
        if url in visited:
            continue
        visited.add(url)
        page.goto(url)
        targets = page.eval_on_selector_all(
            "a[href], link[href], img[src], script[src]", "els => els.map(e => e.href || e.src)")
        for target in targets:
            parsed = urlparse(target)
            if parsed.scheme != "file":
                broken.append((url, target))
                continue
            path = Path(unquote(parsed.path))
            if not path.is_file():
                broken.append((url, target))
                continue
            if parsed.fragment and path.suffix == ".html" and \
                    f'id="{parsed.fragment}"' not in path.read_text(errors="replace"):
                broken.append((url, target))
            if path.suffix == ".html" and root in path.parents:
                queue.append(path.as_uri())
    page.close()
    assert not broken, broken[:10]
    assert not external, external[:10]
    pages = {Path(unquote(urlparse(u).path)).relative_to(root).as_posix() for u in visited}
    assert {"index.html", "readiness.html", "run-history/index.html", "ledger/verification.html",
            "datadocs/index.html", "controls/iam_okta_mfa.html"} <= pages
    assert sum(1 for p in pages if p.startswith("periods/")) == 6
    assert sum(1 for p in pages if p.startswith("datadocs/validations/")) >= 4


def test_show_and_sample_from_the_command_line(evidence_run, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from ccm.cli import app

    monkeypatch.setenv("CCM_DATA_DIR", str(evidence_run.settings.data_dir))
    store = str(evidence_run.evidence_dir)
    runner = CliRunner()
    shown = runner.invoke(app, ["evidence", "show", "iam_okta_mfa", f"{evidence_run.rerun_start:%Y-%m-%d}",
                                "--store", store])
    assert shown.exit_code == 0, shown.output
    assert "version 2 of 2" in shown.output and RERUN_ID in shown.output and "population  40 rows" in shown.output
    as_json = runner.invoke(app, ["evidence", "show", "iam_okta_mfa", "2025-10-06", "--store", store, "--json"])
    record = json.loads(as_json.output)
    assert record["status"] == "excepted" and record["exceptions_applied"][0]["approved_by"]
    args = ["evidence", "sample", "--control", "iam_okta_mfa", "--from", "2025-10-01", "--to", "2025-10-06",
            "--seed", "11", "--store", store, "--out", str(tmp_path)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    drawn = json.loads((tmp_path / "iam_okta_mfa_2025-10-01_2025-10-06_seed11.json").read_text())
    # the frame is every tested day's population (the current version of each): users hired
    # during the window join it
    tested = [r for r in current_results(evidence_run.settings) if r["population_size"] is not None]
    assert len(tested) == 4
    assert drawn["seed"] == 11 and drawn["size"] == 25 and drawn["frame_size"] == sum(r["population_size"] for r in tested)
    assert runner.invoke(app, args).exit_code == 0
    assert json.loads((tmp_path / "iam_okta_mfa_2025-10-01_2025-10-06_seed11.json").read_text())["items"] == drawn["items"]


MONTHLY_CONTROL = """
  - control_id: chg_pr_review
    title: Pull requests are reviewed
    description: Every merged pull request had an approving review by someone other than its author.
    criteria: [CC8.1]
    owner: Engineering
    frequency: monthly
    sources:
      - {dataset: okta.users, freshness: 6h}
"""


def _add_monthly_evaluation(store: EvidenceStore) -> None:
    """A monthly control's October evaluation, shaped like a real record (synthetic result)."""
    from dataclasses import replace

    import pyarrow as pa
    import pyarrow.parquet as pq

    from ccm.constants import Frequency, Status
    from ccm.evidence.ledger import Ledger
    from ccm.evidence.record import ControlRef, PopulationArtifact
    from ccm.periods import Period, as_utc

    template = EvaluationRecord.from_json(store.get(next(k for k in store.list("evaluations"))))
    sink = io.BytesIO()
    pq.write_table(pa.table({"entity_id": ["pr-101", "pr-102", "pr-103"], "approvals": [1, 0, 2]}), sink)
    evaluation_id = "c" * 32
    population = f"populations/chg_pr_review/2025-10-01/{evaluation_id}.parquet"
    record = replace(
        template, evaluation_id=evaluation_id, version=1, supersedes=None, status=Status.FAIL,
        control=ControlRef("chg_pr_review", "Pull requests are reviewed", ("CC8.1",), Frequency.MONTHLY, "Engineering"),
        period=Period(as_utc("2025-10-01"), as_utc("2025-11-01")),
        population=PopulationArtifact(population, store.put(population, sink.getvalue()), 3),
        failing_entity_ids=("pr-102",), excepted_entity_ids=(), exceptions_applied=(), gx=None,
        reason="approvals >= 1")
    key = record.key
    Ledger(store).append("evaluation", {
        "evaluation_id": evaluation_id, "control_id": "chg_pr_review",
        "period_start": record.period.start.isoformat(), "period_end": record.period.end.isoformat(), "version": 1,
        "status": "fail", "record": key, "record_sha256": store.put(key, record.to_json_bytes())},
        "2025-11-01T01:30:00+00:00")


def test_a_monthly_control_in_type_one_and_type_two_packs(tmp_path, evidence_run):
    store = evidence_run.copy_store(tmp_path / "evidence")
    _add_monthly_evaluation(store)
    controls = tmp_path / "controls.yml"
    controls.write_text(Path(evidence_run.settings.controls_path).read_text() + MONTHLY_CONTROL)
    settings = evidence_run.settings.with_overrides(controls_path=controls)
    # Type I mid-November: the last closed month is October, which ends before the as-of day
    type1 = build_pack(settings, tmp_path / "t1", as_of=datetime(2025, 11, 15).date(), store_uri=str(store.root),
                       make_zip=False)
    page = (type1.directory / "controls/chg_pr_review.html").read_text()
    assert "2025-10-01" in page and "--from 2025-10-01 --to 2025-10-31" in page
    assert json.loads((type1.directory / "samples/chg_pr_review.json").read_text())["frame_size"] == 3
    assert type1.summary["pack_verification_ok"], type1.summary
    # Type II over October: the month is one period, failing without an exception
    type2 = build_pack(settings, tmp_path / "t2", datetime(2025, 10, 1).date(), datetime(2025, 10, 31).date(),
                       store_uri=str(store.root), make_zip=False)
    readiness = json.loads((type2.directory / "readiness.json").read_text())
    assert {"control_id": "chg_pr_review", "period": "2025-10-01 to 2025-10-31",
            "page": "periods/chg_pr_review/2025-10-01.html", "uncovered": ["pr-102"]} in readiness["failures"]
    oscal = json.loads((type2.directory / "oscal/assessment-results.json").read_text())["assessment-results"]
    assert {f["title"] for f in oscal["results"][0]["findings"]} == {"CC6.1 / iam_okta_mfa", "CC8.1 / chg_pr_review"}
    assert type2.summary["pack_verification_ok"]


def test_the_front_page_names_the_signing_key_and_how_to_pin_it(pack, evidence_run, tmp_path):
    from ccm.evidence.signing import SIGNING_KEY_ENV, signer_from_env
    from tests.integration.evidence.test_tamper import _rewrite_ledger
    from tests.unit.evidence.synthetic import ed25519_pem_pair

    unsigned = (pack.directory / "index.html").read_text()
    assert "<strong>unsigned</strong>: the chain is internally consistent" in unsigned
    assert "CCM_LEDGER_PUBLIC_KEY" in unsigned and "--require-pinned" in unsigned
    store = evidence_run.copy_store(tmp_path / "evidence")
    signer = signer_from_env({SIGNING_KEY_ENV: ed25519_pem_pair()[0]})
    _rewrite_ledger(store, signer)
    start = evidence_run.window_start.date()
    signed = build_pack(evidence_run.settings, tmp_path / "pack", start, start + timedelta(days=2),
                        store_uri=str(store.root), make_zip=False)
    page = (signed.directory / "index.html").read_text()
    assert f"signed with Ed25519 key <code>{signer.key_id}</code>" in page and "<strong>not pinned</strong>" in page
    assert "CCM_LEDGER_PUBLIC_KEY=&lt;public key PEM or file&gt; ccm evidence verify" in page


def test_a_timestamped_store_shows_its_anchor_and_the_pack_carries_the_tokens(evidence_run, tmp_path, monkeypatch):
    from ccm.evidence.store import EvidenceStore
    from ccm.evidence.timestamping import TSA_ROOTS_ENV, TimestampAuthority, stamp_missing
    from ccm.evidence.verify import verify_store
    from tests.unit.evidence.local_tsa import LocalTSA

    store = evidence_run.copy_store(tmp_path / "evidence")
    with LocalTSA() as tsa:
        stamped, _ = stamp_missing(store, TimestampAuthority(tsa.url))
    monkeypatch.setenv(TSA_ROOTS_ENV, tsa.root_pem.decode())
    start = evidence_run.window_start.date()
    result = build_pack(evidence_run.settings, tmp_path / "pack", start, start + timedelta(days=2),
                        store_uri=str(store.root), make_zip=False)
    front = (result.directory / "index.html").read_text()
    assert f"digest {max(stamped)} carries an RFC 3161 token from <code>CN=ccm test TSA</code>" in front
    ledger_page = (result.directory / "ledger/verification.html").read_text()
    assert ledger_page.count("RFC 3161 token</a>") == len(stamped) and "TIMESTAMPED: entries 1.." in ledger_page
    window = (evidence_run.window_start, evidence_run.window_start + timedelta(days=3))
    copy = verify_store(EvidenceStore(str(result.directory / "evidence")), *window, require_timestamp=True)
    assert copy.ok and copy.anchor.digest_seq == max(stamped), [str(f) for f in copy.findings]
