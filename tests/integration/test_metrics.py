"""Metrics marts, their BI exports, the dashboard and the Airflow plugin, on real and synthetic results.

- `demo`: the small demo company through the real pipeline (extract day by day, evaluate,
  publish), so the marts see real manifests, results, exceptions and Data Docs.
- `synthetic`: 40 controls at every frequency over 365 days with re-evaluations, so the
  marts and the dashboard are checked generically over the control matrix.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from ccm.config import Settings
from tests.conftest import PROJECT_DIR, SMALL_DEMO
from tests.integration import metrics_synthetic as synthetic

pytestmark = pytest.mark.integration

DEMO_DAYS = 6
SYNTHETIC_DAYS = 365
SYNTHETIC_CONTROLS = 40


def _env_settings(monkeypatch: pytest.MonkeyPatch, data_dir: Path, **env: str) -> Settings:
    monkeypatch.setenv("CCM_DATA_DIR", str(data_dir))
    for key in ("CCM_LAKE_URI", "CCM_EVIDENCE_URI", "CCM_WAREHOUSE", "CCM_MARTS_URI", "CCM_INBOX_URI"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings.from_env()


OKTA_ONLY = PROJECT_DIR / "tests" / "fixtures" / "controls" / "okta_only.yml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    """The small demo company run through extract / plan / transform / evaluate, then published."""
    from ccm.metrics.publish import publish_metrics
    from ccm_demo.simulator import generate
    from ccm_demo.verify import run_window

    root = tmp_path_factory.mktemp("metrics-demo")
    demo_dir = generate(SMALL_DEMO, root / "demo")
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = _env_settings(monkeypatch, root / "var", CCM_EXCEPTIONS=str(demo_dir / "exceptions.yml"),
                                 CCM_INBOX_URI=str(root / "var" / "inbox"), CCM_CONTROLS=str(OKTA_ONLY))
        run_window(settings, demo_dir, DEMO_DAYS)
        as_of = SMALL_DEMO.observation_time(SMALL_DEMO.window_start + timedelta(days=DEMO_DAYS))
        published = publish_metrics(settings, as_of)
        yield settings, published


@pytest.fixture(scope="module")
def synthetic_env(tmp_path_factory: pytest.TempPathFactory):
    """40 synthetic controls over a year, published."""
    from ccm.controls.catalog import load_catalog
    from ccm.metrics.publish import publish_metrics

    root = tmp_path_factory.mktemp("metrics-synthetic")
    matrix = synthetic.write_matrix(root / "controls.yml", SYNTHETIC_CONTROLS)
    as_of = synthetic.as_of_for(SYNTHETIC_DAYS)
    ids = [c.control_id for c in load_catalog(matrix)]
    exceptions = synthetic.write_exceptions(root / "exceptions.yml", as_of, ids)
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = _env_settings(monkeypatch, root / "var", CCM_CONTROLS=str(matrix), CCM_EXCEPTIONS=str(exceptions))
        synthetic.write_results(settings, SYNTHETIC_DAYS)
        synthetic.write_manifests(settings, SYNTHETIC_DAYS, failed_days={3, 200, SYNTHETIC_DAYS - 1})
        published = publish_metrics(settings, as_of)
        yield settings, published


def _query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()


# the marts agree with the results ------------------------------------------------------

@pytest.mark.parametrize("env", ["demo", "synthetic_env"])
def test_criteria_totals_per_window_agree_with_the_control_results(env, request):
    settings, _ = request.getfixturevalue(env)
    windows = _query(settings.warehouse_path, "select window_name, window_start, window_end from intermediate.int_metrics__windows")
    assert {w[0] for w in windows} == {"all", "7d", "30d", "90d", "365d"}
    mapping = Counter()
    for control_id, criterion in _query(settings.warehouse_path, "select control_id, criterion from ccm.control_criteria"):
        mapping[(control_id, criterion)] += 1
    current = _query(settings.warehouse_path, "select control_id, period_start, period_end, status from ccm.current_results")
    expected: Counter = Counter()
    for name, start, end in windows:
        for control_id, period_start, period_end, status in current:
            if period_start >= start and period_end <= end:
                for (mapped, criterion) in mapping:
                    if mapped == control_id:
                        expected[(name, criterion, status)] += 1
    actual: Counter = Counter()
    for name, criterion, *counts in _query(
            settings.warehouse_path,
            "select window_name, criterion, periods_pass, periods_fail, periods_excepted, periods_not_tested, "
            "periods_total from marts.mart_criteria_status"):
        for status, count in zip(("pass", "fail", "excepted", "not_tested"), counts[:4], strict=True):
            if count:
                actual[(name, criterion, status)] = count
        assert counts[4] == sum(counts[:4])
    assert actual == expected
    assert sum(v for (name, _, _), v in actual.items() if name == "all") >= len(current)


@pytest.mark.parametrize("env", ["demo", "synthetic_env"])
def test_status_and_effectiveness_marts_count_every_current_result_once(env, request):
    settings, _ = request.getfixturevalue(env)
    path = settings.warehouse_path
    current = dict(Counter(r[0] for r in _query(path, "select status from ccm.current_results")))
    status = dict(_query(path, "select status, count(*) from marts.mart_control_status group by status"))
    assert status == current
    total_all = _query(path, "select sum(periods_pass), sum(periods_fail), sum(periods_excepted), "
                             "sum(periods_not_tested) from marts.mart_control_effectiveness where window_name = 'all'")[0]
    assert dict(zip(("pass", "fail", "excepted", "not_tested"), total_all, strict=True)) == \
        {s: current.get(s, 0) for s in ("pass", "fail", "excepted", "not_tested")}
    # superseded versions never count: only the latest version of a period is in the marts
    versions = _query(path, "select count(*) from ccm.control_results")[0][0]
    assert versions >= sum(current.values())


def test_the_demo_marts_reflect_the_real_run(demo):
    settings, published = demo
    path = settings.warehouse_path
    assert published.marts["mart_control_status"] == DEMO_DAYS
    controls = _query(path, "select control_id from marts.mart_control_status group by 1")
    assert controls == [("iam_okta_mfa",)]
    sources = {r[0]: r[1:] for r in _query(path, "select dataset, attempts_total, controls_depending, health "
                                                 "from marts.mart_source_freshness")}
    from ccm.sources.registry import ALL_DATASETS

    assert set(sources) == {d.key for d in ALL_DATASETS}  # every registered dataset, generically
    assert sources["okta.users"][0] == DEMO_DAYS and sources["okta.users"][1] == 1
    # the demo plants an Okta outage: that day is not complete in the completeness mart
    outage = _query(path, "select count(*) from marts.mart_source_completeness where dataset = 'okta.users' "
                          "and day_status <> 'complete'")[0][0]
    not_tested = _query(path, "select count(*) from ccm.current_results where status = 'not_tested'")[0][0]
    assert outage == not_tested >= 1


def test_open_items_and_exceptions_on_synthetic_results(synthetic_env):
    settings, _ = synthetic_env
    path = settings.warehouse_path
    items = {r[0]: r[1:] for r in _query(path, "select item_key, item_type, days_to_expiry, is_expiring, age_days "
                                               "from marts.mart_open_items")}
    exceptions = {k: v for k, v in items.items() if v[0] == "exception"}
    # EXC-9001 expires in 5.x days (warning), EXC-9002 in 90; EXC-9003 expired and is not in force
    assert {k.rsplit(":", 1)[1] for k in exceptions} == {"EXC-9001", "EXC-9002"}
    soon = next(v for k, v in exceptions.items() if k.endswith("EXC-9001"))
    assert soon[2] is True and 5 < soon[1] < 6
    latest_failing = _query(path, """
        select count(*) from (
            select control_id, unnest(list_filter(failing_entity_ids, lambda x: not list_contains(excepted_entity_ids, x)))
            from (select *, row_number() over (partition by control_id order by period_start desc) as r
                  from ccm.current_results where status <> 'not_tested') where r = 1)""")[0][0]
    assert sum(1 for v in items.values() if v[0] == "failure") == latest_failing


def test_manifests_are_registered_incrementally(synthetic_env):
    from ccm.lake import Lake
    from ccm.metrics.reference import sync_manifests
    from ccm.warehouse import connect

    settings, _ = synthetic_env
    copy = settings.data_dir.parent / "warehouse-copy.duckdb"
    shutil.copy(settings.warehouse_path, copy)
    lake = Lake(settings.lake_uri)
    with connect(copy) as con:
        assert sync_manifests(con, lake) == {"added": 0, "removed": 0, "registered": SYNTHETIC_DAYS}
        gone = lake.list_files("manifests")[0]
        con.execute("delete from ccm.extract_manifests where manifest_path <> ?", [gone])
        con.execute("insert into ccm.extract_manifests select * replace ('manifests/none.json' as manifest_path) "
                    "from ccm.extract_manifests")
        assert sync_manifests(con, lake) == {"added": SYNTHETIC_DAYS - 1, "removed": 1, "registered": SYNTHETIC_DAYS}


# BI tools: read-only warehouse, Parquet, the BI database ------------------------------

def test_the_warehouse_opens_read_only_when_no_writer_holds_it(synthetic_env):
    settings, _ = synthetic_env
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as first, \
            duckdb.connect(str(settings.warehouse_path), read_only=True) as second:
        assert first.execute("select count(*) from marts.mart_control_status").fetchone()[0] == \
            second.execute("select count(*) from marts.mart_control_status").fetchone()[0] > 0
        with pytest.raises(duckdb.Error):
            first.execute("create table marts.scratch (x int)")


def test_the_parquet_marts_read_with_plain_pyarrow(synthetic_env):
    import pyarrow.parquet as pq

    _, published = synthetic_env
    files = sorted(Path(published.marts_location).glob("mart_*.parquet"))
    assert {f.stem for f in files} == set(published.marts)
    for file in files:
        table = pq.read_table(file)
        assert table.num_rows == published.marts[file.stem]
        documented = yaml.safe_load((PROJECT_DIR / "dbt/models/marts" / f"{file.stem}.yml").read_text())
        columns = {c["name"] for c in documented["models"][0]["columns"]}
        assert set(table.column_names) == columns, f"{file.stem}: columns and documentation differ"
    status = pq.read_table(Path(published.marts_location) / "mart_control_status.parquet").to_pylist()
    assert {r["status"] for r in status} <= {"pass", "fail", "excepted", "not_tested"}


def test_superset_style_sqlalchemy_connection_to_the_bi_database(synthetic_env):
    """What docs/bi.md tells Superset: duckdb-engine, a read-only connection to ccm_metrics.duckdb."""
    from sqlalchemy import create_engine, text

    settings, published = synthetic_env
    engine = create_engine(f"duckdb:///{published.bi_database}", connect_args={"read_only": True})
    with engine.connect() as connection:
        rows = connection.execute(text(
            "select criterion, pass_share from mart_criteria_status where window_name = '90d' order by criterion"
        )).fetchall()
    engine.dispose()
    assert len(rows) == _query(settings.warehouse_path, "select count(distinct criterion) from ccm.control_criteria")[0][0]
    # the pipeline can write the warehouse while a BI tool holds the BI database open
    with duckdb.connect(published.bi_database, read_only=True), duckdb.connect(str(settings.warehouse_path)) as writer:
        writer.execute("select 1")


# the dashboard ---------------------------------------------------------------------------

def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, problems


@pytest.mark.browser
@pytest.mark.parametrize("env", ["demo", "synthetic_env"])
def test_the_dashboard_renders_offline_without_console_errors(env, request, browser):
    settings, published = request.getfixturevalue(env)
    page, problems = _open(browser, published.dashboard.as_uri())
    try:
        assert problems == []
        assert page.locator("h1").inner_text() == "SOC 2 control monitoring"
        controls = _query(settings.warehouse_path, "select count(*) from ccm.controls")[0][0]
        results = _query(settings.warehouse_path, "select count(*) from ccm.current_results")[0][0]
        assert page.locator("svg.heatmap text.label").count() == controls
        assert page.locator("svg.heatmap rect:not(.track)").count() == results
        criteria = _query(settings.warehouse_path, "select count(distinct criterion) from ccm.control_criteria")[0][0]
        assert page.locator(".criterion").count() == criteria
        # nothing is fetched from anywhere: every resource is inline
        assert page.evaluate("performance.getEntriesByType('resource').length") == 0
        # the heatmap stays within the page for a year of daily periods
        width = page.evaluate("document.querySelector('svg.heatmap').getBoundingClientRect().width")
        assert width <= 1300
    finally:
        page.close()


@pytest.mark.browser
def test_dashboard_links_reach_the_evidence_and_say_when_no_pack_exists(demo, browser):
    settings, published = demo
    page, _ = _open(browser, published.dashboard.as_uri())
    try:
        assert "No evidence pack built yet" in page.locator("nav.links").inner_text()
        hrefs = page.evaluate("[...document.querySelectorAll('svg.heatmap a')].map(a => a.href.baseVal || a.href)")
        assert len(hrefs) == DEMO_DAYS
        for href in hrefs:
            target = (published.dashboard.parent / href).resolve()
            assert target.is_file(), href  # Data Docs page, or the record of a not_tested period
    finally:
        page.close()
    pack = settings.data_dir / "packs" / "latest" / "index.html"
    (pack.parent / "controls").mkdir(parents=True)
    pack.write_text("<!doctype html><title>pack</title><h1>Evidence pack</h1>")
    (pack.parent / "controls" / "iam_okta_mfa.html").write_text("<!doctype html><title>control</title><h1>iam</h1>")
    try:
        from ccm.metrics.publish import publish_metrics

        publish_metrics(settings, build=False)
        page, problems = _open(browser, published.dashboard.as_uri())
        # the control's page in the pack is linked from its heatmap row
        assert page.locator('svg.heatmap a[href="../packs/latest/controls/iam_okta_mfa.html"]').count() == 1
        page.get_by_role("link", name="Evidence pack", exact=True).click()
        page.wait_for_load_state("load")
        assert page.locator("h1").inner_text() == "Evidence pack"
        assert problems == []
        page.close()
    finally:
        shutil.rmtree(settings.data_dir / "packs")


# the Airflow plugin ----------------------------------------------------------------------

def test_the_plugin_file_imports_nothing_heavy():
    code = ("import sys, runpy; runpy.run_path(sys.argv[1]);"
            "print(','.join(m for m in ('great_expectations', 'dbt', 'pandas', 'duckdb', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(PROJECT_DIR / "plugins" / "ccm_dashboard_plugin.py")],
                         capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def api_server(synthetic_env, tmp_path_factory):
    """`airflow api-server` on a free port with a throw-away home, SQLite and one simple-auth user."""
    settings, _ = synthetic_env
    home = tmp_path_factory.mktemp("airflow-ui")
    (home / "dags").mkdir()
    (home / "passwords.json").write_text('{"operator": "test-password"}')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CCM_"))}
    env |= {
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_DIR / "plugins"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "operator:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "CCM_DATA_DIR": str(settings.data_dir), "CCM_CONTROLS": str(settings.controls_path),
    }
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, check=True, timeout=300)
    port = _free_port()
    log = open(home / "api-server.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen([airflow, "api-server", "--port", str(port), "--host", "127.0.0.1"], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("api-server did not start:\n" + (home / "api-server.log").read_text()[-4000:])
            time.sleep(0.5)
        yield base
    finally:
        # the server and its workers form the process group started above
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        log.close()


def test_plugin_files_need_an_airflow_session_and_stay_inside_their_trees(api_server):
    import httpx

    assert httpx.get(f"{api_server}/ccm/reports/dashboard.html").status_code == 401
    token = httpx.post(f"{api_server}/auth/token", json={"username": "operator", "password": "test-password"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    page = httpx.get(f"{api_server}/ccm/reports/dashboard.html", headers=headers)
    assert page.status_code == 200 and "SOC 2 control monitoring" in page.text
    assert httpx.get(f"{api_server}/ccm/reports/..%2Fwarehouse.duckdb", headers=headers).status_code == 404
    assert httpx.get(f"{api_server}/ccm/lake/manifests", headers=headers).status_code == 404
    missing = httpx.get(f"{api_server}/ccm/packs/latest/index.html", headers=headers)
    assert missing.status_code == 404 and "No evidence pack built yet" in missing.text


@pytest.mark.browser
def test_the_dashboard_is_in_the_airflow_ui_navigation(api_server, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(f"{api_server}/")
        page.fill("input[name=username]", "operator")
        page.fill("input[name=password]", "test-password")
        page.click("button[type=submit]")
        page.wait_for_url(f"{api_server}/", timeout=60_000)
        entry = page.get_by_role("link", name="Controls")
        expect(entry).to_be_visible(timeout=30_000)
        expect(page.get_by_role("link", name="Evidence")).to_be_visible()
        entry.click()
        expect(page).to_have_url(re.compile("/plugin/ccm-dashboard$"))
        frame = page.frame_locator("iframe")
        expect(frame.locator("h1")).to_have_text("SOC 2 control monitoring", timeout=30_000)
        expect(frame.locator("svg.heatmap text.label")).to_have_count(SYNTHETIC_CONTROLS)
        # the page is sandboxed (no dialogs, forms or top navigation; no script of its own) yet a
        # link it follows still carries the viewer's session: the plugin answers, not a 401
        served = page.request.get(f"{api_server}/ccm/reports/dashboard.html")
        assert "sandbox allow-scripts" in served.headers["content-security-policy"]
        inner = next(f for f in page.frames if f.url.endswith("/ccm/reports/dashboard.html"))
        with page.expect_response(lambda r: r.url.endswith("/ccm/packs/latest/index.html"),
                                  timeout=30_000) as followed:
            inner.evaluate("const a = document.createElement('a'); a.href = '/ccm/packs/latest/index.html';"
                           "document.body.append(a); a.click()")
        # the plugin's own answer (no pack yet), not the API server's 401 for a request without the session
        assert followed.value.status == 404 and "No evidence pack built yet" in followed.value.text()
    finally:
        page.close()


def test_the_marts_export_to_s3(synthetic_env, monkeypatch):
    """The same export to an S3 prefix (a moto server stands in for S3)."""
    import boto3
    import pyarrow.parquet as pq
    from moto.server import ThreadedMotoServer

    from ccm.lake import open_filesystem
    from ccm.metrics.marts import BI_DATABASE, export_marts

    settings, published = synthetic_env
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port())
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._port}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="metrics")
        build = export_marts(settings.with_overrides(s3_endpoint_url=endpoint), "s3://metrics/ccm/marts")
        assert build.marts == published.marts
        keys = {o["Key"] for o in boto3.client("s3", endpoint_url=endpoint).list_objects_v2(
            Bucket="metrics", Prefix="ccm/marts/")["Contents"]}
        assert keys == {f"ccm/marts/{name}.parquet" for name in published.marts} | {f"ccm/marts/{BI_DATABASE}"}
        fs, root = open_filesystem("s3://metrics/ccm/marts", endpoint)
        table = pq.read_table(f"{root}/mart_control_status.parquet", filesystem=fs)
        assert table.num_rows == published.marts["mart_control_status"]
    finally:
        server.stop()
