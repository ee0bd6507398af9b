"""Issue 23 item 4: hostile values in source data never become live markup.

Free-text fields (a CloudTrail `userIdentity.arn`, an Okta login, a PR title) reach the
pages the product writes as unexpected values and entity ids. Each hostile string is
pushed through a population column and the entity id of a real `SuiteRunner.validate`
whose suite fails those rows; the Data Docs page it writes is loaded in headless Chromium
(no dialog may fire) and parsed (no script element, event-handler attribute or
`javascript:` URL may carry a hostile string).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from ccm.controls.gx_runner import SuiteRunner
from tests.conftest import PROJECT_DIR

PROJECT_DIR_TEMPLATES = PROJECT_DIR / "plugins" / "ccm" / "templates"

HOSTILE = [
    '"><script>alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "'\"",
    "<svg/onload=alert(1)>" + "A" * 10_000,
]
MARKERS = ("alert(1)", "<script", "onerror", "onload", "javascript:")

SUITE = {
    "name": "ctl_hostile",
    "expectations": [
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "arn", "value_set": ["ok"]},
         "meta": {"notes": "every sign-in used MFA"}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "logins_without_mfa", "min_value": 0, "max_value": 0}},
    ],
}


class _Live(HTMLParser):
    """Collects what a browser would execute: script bodies, on* attributes, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self.handlers: list[str] = []  # every on* attribute, GX's own included
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        for name, value in attrs:
            value = value or ""
            live = name.startswith("on") or value.strip().lower().startswith("javascript:")
            if live and any(marker in value for marker in MARKERS):
                self.live.append(f"<{tag} {name}={value[:80]!r}>")
        if tag == "svg" or (tag == "img" and dict(attrs).get("src") == "x"):  # elements only data could make
            self.live.append(f"<{tag}> element")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and any(marker in data for marker in MARKERS):
            self.live.append(f"<script> {data[:80]!r}")


def _parsed(page: str) -> _Live:
    parser = _Live()
    parser.feed(page)
    parser.close()
    return parser


def _live_markup(page: str) -> list[str]:
    return _parsed(page).live


def _policy(page: str) -> str:
    return page.split('http-equiv="Content-Security-Policy" content="', 1)[1].split('"', 1)[0]


def _dialogs_in_chromium(browser, path: Path) -> tuple[list[str], list[str]]:
    page = browser.new_page()
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # nothing may reach the network: the CDN assets GX links are refused, as offline
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto(path.as_uri())
    page.wait_for_timeout(300)
    for image in page.query_selector_all("img"):  # give any injected handler its chance
        image.dispatch_event("error")
    page.close()
    return dialogs, errors


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    suites = root / "suites"
    suites.mkdir()
    (suites / "ctl_hostile.json").write_text(json.dumps(SUITE))
    runner = SuiteRunner(suites, root / "results", root / "docs")
    frame = pd.DataFrame({
        "entity_id": [*HOSTILE, "fine"],
        "arn": [*HOSTILE, "ok"],
        "logins_without_mfa": [1] * len(HOSTILE) + [0],
    })
    outcome = runner.validate("ctl_hostile", frame, "run", datetime(2025, 10, 2, tzinfo=UTC))
    assert not outcome.success
    assert set(outcome.failing_entity_ids) == set(HOSTILE)
    assert outcome.docs_page is not None and outcome.docs_page.is_file()
    return outcome.docs_page


def test_the_data_docs_page_shows_hostile_values_as_text(hostile_page):
    page = hostile_page.read_text(encoding="utf-8")
    assert _live_markup(page) == []
    for marker in ('<script>alert(1)</script>', "<img src=x onerror", "<svg/onload"):
        assert marker not in page
    # the values are there, as text: an auditor still reads what the data said
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page or "&amp;lt;script&amp;gt;" in page


def test_the_data_docs_page_runs_no_hostile_script_in_chromium(hostile_page, browser):
    dialogs, _ = _dialogs_in_chromium(browser, hostile_page)
    assert dialogs == []


def test_the_data_docs_page_carries_a_content_security_policy(hostile_page):
    page = hostile_page.read_text(encoding="utf-8")
    assert page.index('<meta http-equiv="Content-Security-Policy"') < page.index("<script")  # it covers them all
    script_src = _policy(page).split("script-src", 1)[1].split(";", 1)[0]
    assert "'unsafe-inline'" not in script_src and "'sha256-" in script_src
    assert "default-src 'none'" in _policy(page) and "object-src 'none'" in _policy(page)


def test_the_offline_rendition_of_a_hostile_page_is_inert(hostile_page, browser, tmp_path):
    from ccm.evidence.datadocs import offline_rendition

    rendition = offline_rendition(hostile_page.read_text(encoding="utf-8"), banner="<b>offline</b>")
    assert _live_markup(rendition) == []
    assert _parsed(rendition).handlers == []  # no script left to handle GX's onclick buttons
    assert rendition.count("Content-Security-Policy") == 1 and "script-src" not in _policy(rendition)
    target = tmp_path / "offline.html"
    target.write_text(rendition, encoding="utf-8")
    dialogs, errors = _dialogs_in_chromium(browser, target)
    assert dialogs == [] and errors == []


def test_the_served_header_allows_the_inline_script_gx_pages_carry(hostile_page):
    from ccm.webpolicy import GX_INLINE_SCRIPT_HASHES

    page = hostile_page.read_text(encoding="utf-8")
    for digest in GX_INLINE_SCRIPT_HASHES:  # same hashes as the page's own policy: a GX upgrade fails here
        assert digest in _policy(page)


def test_the_airflow_ui_plugin_serves_every_file_with_a_policy_and_a_sandbox(tmp_path, monkeypatch):
    import runpy

    from fastapi.testclient import TestClient

    plugin = runpy.run_path(str(PROJECT_DIR / "plugins" / "ccm_dashboard_plugin.py"))
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "dashboard.html").write_text("<!doctype html><p>dashboard</p>")

    async def allowed(request):
        return None

    serve = plugin["serve"]
    monkeypatch.setitem(serve.__globals__, "_require_airflow_user", allowed)
    monkeypatch.setitem(serve.__globals__, "_roots", lambda: {"reports": tmp_path / "reports", "packs": tmp_path / "p",
                                                              "evidence": None})
    client = TestClient(plugin["app"])
    for url, status in (("/reports/dashboard.html", 200), ("/packs/latest/index.html", 404)):
        response = client.get(url)
        assert response.status_code == status
        policy = response.headers["content-security-policy"]
        assert "sandbox allow-scripts" in policy
        assert not any(f"allow-{what}" in policy for what in ("modals", "forms", "top-navigation"))
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
        assert response.headers["x-content-type-options"] == "nosniff"


def test_the_status_index_and_pack_pages_carry_a_policy_that_allows_no_script():
    from ccm.evidence.pack import _templates
    from ccm.report import templates
    from ccm.webpolicy import OWN_PAGE_POLICY

    assert "script-src" not in OWN_PAGE_POLICY and "default-src 'none'" in OWN_PAGE_POLICY
    for env in (templates(), _templates()):
        assert "Content-Security-Policy" in str(env.globals["csp_meta"])
    for name in ("index.html.j2", "dashboard.html.j2", "evidence/base.html.j2"):
        assert "{{ csp_meta }}" in (PROJECT_DIR_TEMPLATES / name).read_text()


def test_the_status_index_shows_hostile_entity_ids_and_reasons_as_text(browser, tmp_path):
    from datetime import date

    from ccm.report import templates

    row = {"control_id": "iam_aws_console_mfa", "period_start": date(2025, 10, 1), "period_end": date(2025, 10, 2),
           "version": 1, "status": "fail", "population_size": len(HOSTILE), "failing_count": len(HOSTILE),
           "failing_entity_ids": HOSTILE, "reason": HOSTILE[0] + HOSTILE[2],
           # links are relative paths under the evidence root (report.relative_linker): never a scheme
           "docs_href": "../evidence/gx/docs/" + HOSTILE[0], "record_href": None,
           "population_href": None, "run_id": HOSTILE[1]}
    page = templates().get_template("index.html.j2").render(
        controls={}, rows=[row], counts={"fail": 1}, generated_at=datetime(2025, 10, 3, tzinfo=UTC), docs_index=None)
    assert _live_markup(page) == [] and "<script>alert(1)" not in page
    target = tmp_path / "index.html"
    target.write_text(page, encoding="utf-8")
    dialogs, errors = _dialogs_in_chromium(browser, target)
    assert dialogs == [] and errors == []
