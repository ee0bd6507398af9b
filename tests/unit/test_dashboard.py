"""Dashboard geometry: periods on a day scale, legible axes, bounded sparklines, safe rendering."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest

from ccm.config import Settings
from ccm.metrics import dashboard
from ccm.metrics.dashboard import DashboardData, build_heatmap, build_sparklines

START = datetime(2025, 10, 1, tzinfo=UTC)


def _data(status_rows, criteria_daily=(), criteria=(), as_of=None) -> DashboardData:
    controls = sorted({r["control_id"] for r in status_rows})
    return DashboardData(
        as_of=as_of or START + timedelta(days=30, hours=1),
        controls=[{"control_id": c, "title": f"Title of {c}", "control_domain": c.split("_")[0],
                   "owner": "o", "frequency": "daily"} for c in controls],
        status=list(status_rows), effectiveness=[], criteria=list(criteria), criteria_daily=list(criteria_daily),
        open_items=[], freshness=[], completeness=[],
    )


def _result(control_id, start, days, status="pass", **extra):
    return {"control_id": control_id, "period_start": start, "period_end": start + timedelta(days=days),
            "status": status, "failing_count": 0, "reason": None, "data_docs_path": None, "evidence_path": None,
            "is_latest_period": False, **extra}


def test_periods_of_every_frequency_share_one_day_scale():
    rows = [_result("iam_daily", START + timedelta(days=d), 1) for d in range(31)]
    rows.append(_result("org_monthly", START, 31, "fail", failing_count=2))
    heatmap = build_heatmap(_data(rows), lambda _: None)
    daily = next(r for r in heatmap.rows if r.control_id == "iam_daily")
    monthly = next(r for r in heatmap.rows if r.control_id == "org_monthly")
    assert heatmap.days == 31
    assert len(daily.cells) == 31 and len(monthly.cells) == 1
    # the monthly cell spans the same x range as the 31 daily cells together
    assert monthly.cells[0].x == daily.cells[0].x
    assert abs(monthly.cells[0].x + monthly.cells[0].width - (daily.cells[-1].x + daily.cells[-1].width)) < 0.01
    assert "2 failing" in monthly.cells[0].title and "2025-10-01 to 2025-10-31" in monthly.cells[0].title
    assert [g.name for g in heatmap.groups] == ["IAM", "ORG"]
    assert heatmap.width <= dashboard.PLOT_WIDTH


def test_a_week_is_drawn_wide_and_a_year_fits_the_plot():
    week = build_heatmap(_data([_result("iam_a", START + timedelta(days=d), 1) for d in range(7)]), lambda _: None)
    assert week.width == 7 * dashboard.MAX_DAY_WIDTH
    # day numbers, except where the month label needs the room
    assert [t.label for t in week.ticks if not t.major] == ["3", "4", "5", "6", "7"]
    year = build_heatmap(_data([_result("iam_a", START + timedelta(days=d), 1) for d in range(365)]), lambda _: None)
    assert year.width <= dashboard.PLOT_WIDTH
    labels = [t.label for t in year.ticks]
    assert labels[0] == "Oct 2025" and "Jan 2026" in labels and all(t.major for t in year.ticks)
    xs = [t.x for t in year.ticks]
    assert all(b - a >= 40 for a, b in pairwise(xs))


def test_sparklines_are_bounded_and_break_where_there_is_no_result():
    days = [date(2025, 1, 1) + timedelta(days=d) for d in range(365)]
    daily = [{"criterion": "CC6.1", "day": d, "pass_share": None if i == 100 else 0.5, "status": "pass"}
             for i, d in enumerate(days)]
    criteria = [{"window_name": "all", "criterion": "CC6.1", "criterion_group": "CC6", "status": "fail", "controls": 2,
                 "controls_with_result": 2, "controls_pass": 1, "pass_share": 0.5}]
    line = build_sparklines(_data([], daily, criteria))[0]
    assert line.points <= dashboard.SPARK_MAX_POINTS
    assert line.path.count("M") >= 1 and line.latest_share == 0.5

    gap = [{"criterion": "CC6.1", "day": d, "pass_share": None if i in (3, 4) else 1.0, "status": "pass"}
           for i, d in enumerate(days[:10])]
    assert build_sparklines(_data([], gap, criteria))[0].path.count("M") == 2


def test_criteria_are_ordered_naturally():
    criteria = [{"window_name": "all", "criterion": c, "criterion_group": c.split(".")[0], "status": "pass",
                 "controls": 1, "controls_with_result": 1, "controls_pass": 1, "pass_share": 1.0}
                for c in ("CC6.10", "A1.2", "CC6.2", "C1.1", "CC10.1")]
    assert [s.criterion for s in build_sparklines(_data([], (), criteria))] == \
        ["A1.2", "C1.1", "CC6.2", "CC6.10", "CC10.1"]


def test_rendering_escapes_names_and_says_when_no_pack_exists(tmp_path, monkeypatch):
    monkeypatch.setenv("CCM_DATA_DIR", str(tmp_path))
    settings = Settings.from_env()
    rows = [_result("iam_a", START, 1, "fail", failing_count=1, reason="<script>alert(1)</script>",
                    data_docs_path="gx/docs/x.html", is_latest_period=True)]
    data = _data(rows)
    data.controls[0]["title"] = "<b>bold</b>"
    html = dashboard.render(settings, data, tmp_path / "reports")
    assert "<script>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "No evidence pack built yet" in html
    assert 'href="../evidence/gx/docs/x.html"' in html
    pack = tmp_path / "packs" / "latest" / "index.html"
    pack.parent.mkdir(parents=True)
    pack.write_text("pack")
    html = dashboard.render(settings, data, tmp_path / "reports")
    assert 'href="../packs/latest/index.html"' in html and "No evidence pack built yet" not in html
    assert "periods/iam_a" not in html  # no link to a pack page that does not exist
    period_page = pack.parent / "periods" / "iam_a" / "2025-10-01.html"
    period_page.parent.mkdir(parents=True)
    period_page.write_text("period")
    data.open_items = [{"item_type": "failure", "control_id": "iam_a", "entity_id": "u1", "since": START,
                        "age_days": 1.0, "periods_failing": 1, "exception_expired_on": None,
                        "latest_period_start": START, "data_docs_path": None, "evidence_path": None}]
    html = dashboard.render(settings, data, tmp_path / "reports")
    assert 'href="../packs/latest/periods/iam_a/2025-10-01.html"' in html


def test_an_annual_period_reaching_back_before_monitoring_is_clipped_to_the_axis():
    rows = [_result("iam_daily", START + timedelta(days=d), 1) for d in range(92)]
    rows.append(_result("mon_annual", datetime(2025, 1, 1, tzinfo=UTC), 365))
    heatmap = build_heatmap(_data(rows), lambda _: None)
    assert heatmap.start == START and heatmap.days == 92  # not from January
    annual = next(r for r in heatmap.rows if r.control_id == "mon_annual").cells[0]
    assert annual.x == 0 and "2025-01-01 to 2025-12-31" in annual.title
    last_day = next(r for r in heatmap.rows if r.control_id == "iam_daily").cells[91]  # 2025-12-31
    assert abs(annual.x + annual.width - (last_day.x + last_day.width)) < 0.01


@pytest.mark.parametrize("root, out_dir", [
    ("/data/evidence", "/data/reports"), ("/data/evidence", "/data/evidence"), ("/data", "/data/reports"),
    ("/data/evidence/", "/elsewhere/deep/reports"), ("/", "/data/reports"), ("/data/reports/evidence", "/data/reports"),
    ("relative/evidence", "relative/reports"), ("/data/./evidence", "/data/reports/"),
])
def test_links_are_what_relpath_gives_for_any_relative_path(root, out_dir):
    """The pages compute thousands of links from one root: the shortcut must equal relpath."""
    import os

    from ccm.report import relative_linker

    link = relative_linker(root, out_dir)
    for relative in ("evaluations/c/2025-01-01/v001.json", "gx/docs/index.html", "reports/x.html", "x", ".", "..",
                     "../x", "a/../b", "a/./b", "a//b", "a/b/", "/abs/path", "reports", "reports/", "./x"):
        assert link(relative) == os.path.relpath(os.path.join(root, relative), out_dir), (root, out_dir, relative)
