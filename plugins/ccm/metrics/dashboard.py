"""The static HTML dashboard: the control environment at a glance.

One self-contained page (inline CSS and SVG, no scripts, nothing from a CDN) written to
`<data_dir>/reports/dashboard.html` on every publish and by `ccm dashboard`. It opens
from the file system and from the Airflow UI (the `ccm_dashboard_plugin` serves the same
directory tree), so every link is relative: to the GX Data Docs page and evaluation
record of each result in the evidence store, and to the latest evidence pack at
`<data_dir>/packs/latest/index.html` (and its `controls/<control_id>.html` and
`periods/<control_id>/<YYYY-MM-DD>.html` pages where they exist); without a pack the page
says so.

Everything shown comes from the marts, so the page and a BI tool never disagree. The
drawing is generic over the control matrix: rows are whatever controls exist, the time
axis is in days so daily and quarterly periods sit on the same scale, and sizes adapt
from one control and a week to forty controls and a year.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ccm.config import Settings

DASHBOARD_FILE = "dashboard.html"
PACK_INDEX = Path("packs") / "latest" / "index.html"

STATUSES = ("pass", "excepted", "fail", "not_tested")
STATUS_LABELS = {"pass": "Pass", "excepted": "Excepted", "fail": "Fail", "not_tested": "Not tested"}
DAY_STATUSES = ("complete", "incomplete", "failed", "missing")
HEALTH_LABELS = {"ok": "Fresh", "last_attempt_failed": "Last attempt failed", "stale": "Stale",
                 "never_extracted": "Never extracted"}

# heatmap geometry (px)
PLOT_WIDTH = 880
MAX_DAY_WIDTH = 56
ROW_HEIGHT = 18
ROW_GAP = 3
GROUP_HEIGHT = 22
AXIS_HEIGHT = 34
# criteria sparklines
SPARK_WIDTH = 188
SPARK_HEIGHT = 40
SPARK_MAX_POINTS = 120
# source completeness strip
STRIP_DAYS = 30
STRIP_CELL = 7


@dataclass(frozen=True)
class Cell:
    x: float
    width: float
    status: str
    title: str
    href: str | None


@dataclass(frozen=True)
class HeatmapRow:
    control_id: str
    title: str
    frequency: str
    y: float
    cells: tuple[Cell, ...]
    pass_share: float | None
    latest_status: str | None


@dataclass(frozen=True)
class HeatmapGroup:
    name: str
    y: float


@dataclass(frozen=True)
class Tick:
    x: float
    label: str
    major: bool


@dataclass(frozen=True)
class Heatmap:
    width: float
    height: float
    plot_height: float
    rows: tuple[HeatmapRow, ...]
    groups: tuple[HeatmapGroup, ...]
    ticks: tuple[Tick, ...]
    start: datetime | None
    end: datetime | None
    days: int
    today_x: float | None

    @property
    def last_day(self) -> datetime | None:
        """The last day any period covers (periods are half-open)."""
        return self.end - timedelta(days=1) if self.end else None


@dataclass(frozen=True)
class Sparkline:
    criterion: str
    criterion_group: str
    status: str | None
    controls: int
    controls_with_result: int
    controls_pass: int
    pass_share_30d: float | None
    latest_share: float | None
    path: str
    area: str
    points: int
    first_day: date | None
    last_day: date | None


@dataclass(frozen=True)
class SourceRow:
    dataset: str
    kind: str
    health: str
    data_as_of: datetime | None
    age_hours: float | None
    max_age_hours: float
    last_attempt_status: str | None
    last_attempt_at: datetime | None
    last_error: str | None
    completeness_30d: float | None
    controls_depending: int
    strip: tuple[tuple[str, str], ...]  # (day_status, tooltip) oldest first


@dataclass
class DashboardData:
    """The marts, as read for one rendering."""

    as_of: datetime
    controls: list[dict[str, Any]]
    status: list[dict[str, Any]]
    effectiveness: list[dict[str, Any]]
    criteria: list[dict[str, Any]]
    criteria_daily: list[dict[str, Any]]
    open_items: list[dict[str, Any]]
    freshness: list[dict[str, Any]]
    completeness: list[dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)


def _rows(con: Any, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def load_data(con: Any) -> DashboardData:
    """Read every mart the dashboard draws from a warehouse connection (read-only is enough)."""
    as_of_row = con.execute("select as_of from intermediate.int_metrics__as_of").fetchone()
    return DashboardData(
        as_of=_utc(as_of_row[0]) if as_of_row and as_of_row[0] else datetime.now(UTC),
        controls=_rows(con, "select control_id, title, control_domain, owner, frequency from staging.stg_ccm__controls "
                            "order by control_id"),
        status=_rows(con, "select * from marts.mart_control_status order by control_id, period_start"),
        effectiveness=_rows(con, "select * from marts.mart_control_effectiveness"),
        criteria=_rows(con, "select * from marts.mart_criteria_status"),
        criteria_daily=_rows(con, "select criterion, day, pass_share, status from marts.mart_criteria_daily "
                                  "order by criterion, day"),
        open_items=_rows(con, "select * from marts.mart_open_items"),
        freshness=_rows(con, "select * from marts.mart_source_freshness order by dataset"),
        completeness=_rows(con, "select dataset, day, day_status, attempts, rows_written "
                                "from marts.mart_source_completeness order by dataset, day"),
    )


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


# geometry ------------------------------------------------------------------------------

def _period_label(start: datetime, end: datetime) -> str:
    days = (end - start).days
    if days <= 1:
        return f"{start:%Y-%m-%d}"
    return f"{start:%Y-%m-%d} to {(end - timedelta(days=1)):%Y-%m-%d}"


def _ticks(start: datetime, days: int, day_width: float) -> list[Tick]:
    """Month starts (with the year on the first and on January), plus day ticks when days are wide."""
    if day_width >= 22:
        step = 1
    elif day_width * 7 >= 40:
        step = 7
    else:
        step = 0
    months = [offset for offset in range(days + 1) if (start + timedelta(days=offset)).day == 1]
    if not months or months[0] * day_width >= 60:  # label the start unless a month label is right there
        months = [0, *months]
    ticks: list[Tick] = []
    for index, offset in enumerate(months):
        moment = start + timedelta(days=offset)
        label = f"{moment:%b %Y}" if index == 0 or moment.month == 1 else f"{moment:%b}"
        ticks.append(Tick(offset * day_width, label, True))
    if step:
        ticks += [Tick(offset * day_width, f"{(start + timedelta(days=offset)).day}", False)
                  for offset in range(0, days, step) if offset not in months]
    ticks.sort(key=lambda t: (t.x, not t.major))
    # a label too close to the previous major one is dropped: month names need ~60px
    kept: list[Tick] = []
    last_major = -1e9
    for tick in ticks:
        if tick.x - last_major < (40 if tick.major else 58):
            continue
        if tick.major:  # and day numbers just before it
            while kept and not kept[-1].major and tick.x - kept[-1].x < 24:
                kept.pop()
            last_major = tick.x
        kept.append(tick)
    return kept


def build_heatmap(data: DashboardData, link: Any) -> Heatmap:
    """Controls (rows, grouped by domain) by time (days): one cell per evaluated period."""
    by_control: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in data.status:
        by_control[row["control_id"]].append(row)
    titles = {c["control_id"]: c for c in data.controls}
    for control_id, rows in by_control.items():
        if control_id not in titles:
            first = rows[0]
            titles[control_id] = {"control_id": control_id, "title": first.get("title") or "(not in the matrix)",
                                  "control_domain": control_id.split("_", 1)[0], "frequency": first.get("frequency")}
    all_share = {e["control_id"]: e["pass_share"] for e in data.effectiveness if e["window_name"] == "all"}
    starts = [_utc(r["period_start"]) for r in data.status]
    ends = [_utc(r["period_end"]) for r in data.status]
    # the axis starts with the first period shorter than a year: an annual period reaching
    # back months before monitoring began would leave most of the plot empty; it is drawn
    # clipped to the axis (its tooltip names the whole period)
    short = [_utc(r["period_start"]) for r in data.status
             if (_utc(r["period_end"]) - _utc(r["period_start"])).days < 365]
    start = min(short or starts) if starts else None
    end = max(ends) if ends else None
    days = (end - start).days if start and end else 0
    day_width = min(MAX_DAY_WIDTH, PLOT_WIDTH / days) if days else 0.0
    width = days * day_width
    gap = 1.0 if day_width >= 4 else 0.0
    rows: list[HeatmapRow] = []
    groups: list[HeatmapGroup] = []
    y = 0.0
    ordered = sorted(titles.values(), key=lambda c: (c.get("control_domain") or "", c["control_id"]))
    current_group = None
    for control in ordered:
        domain = control.get("control_domain") or ""
        if domain != current_group:
            groups.append(HeatmapGroup(domain.upper(), y))
            y += GROUP_HEIGHT
            current_group = domain
        cells = []
        for result in by_control.get(control["control_id"], []):
            period_start, period_end = _utc(result["period_start"]), _utc(result["period_end"])
            drawn_from = max(period_start, start)
            x = (drawn_from - start).total_seconds() / 86400 * day_width
            w = max((period_end - drawn_from).total_seconds() / 86400 * day_width - gap, 1.0)
            failing = result.get("failing_count") or 0
            detail = f"{failing} failing" if result["status"] in ("fail", "excepted") else ""
            if result["status"] == "not_tested" and result.get("reason"):
                detail = str(result["reason"])[:160]
            title = f"{control['control_id']} · {_period_label(period_start, period_end)} · " \
                    f"{STATUS_LABELS.get(result['status'], result['status'])}" + (f" · {detail}" if detail else "")
            href = link(result.get("data_docs_path")) or link(result.get("evidence_path"))
            cells.append(Cell(round(x, 2), round(w, 2), result["status"], title, href))
        latest = by_control.get(control["control_id"], [])
        rows.append(HeatmapRow(control["control_id"], control.get("title") or "", control.get("frequency") or "",
                               y, tuple(cells), all_share.get(control["control_id"]),
                               latest[-1]["status"] if latest else None))
        y += ROW_HEIGHT + ROW_GAP
    today_x = None
    if start and data.as_of and start <= data.as_of <= (end or data.as_of) + timedelta(days=1):
        today_x = min((data.as_of - start).total_seconds() / 86400 * day_width, width)
    return Heatmap(width=round(width, 2), height=y + AXIS_HEIGHT, plot_height=y, rows=tuple(rows),
                   groups=tuple(groups), ticks=tuple(_ticks(start, days, day_width)) if start else (),
                   start=start, end=end, days=days, today_x=today_x)


def _downsample(series: list[tuple[date, float | None]]) -> list[tuple[date, float | None]]:
    """At most SPARK_MAX_POINTS points: average over equal buckets of days (a year becomes weeks)."""
    if len(series) <= SPARK_MAX_POINTS:
        return series
    size = -(-len(series) // SPARK_MAX_POINTS)
    out = []
    for index in range(0, len(series), size):
        bucket = series[index:index + size]
        values = [v for _, v in bucket if v is not None]
        out.append((bucket[0][0], sum(values) / len(values) if values else None))
    return out


def build_sparklines(data: DashboardData) -> list[Sparkline]:
    """One passing-share trend per criterion, in the order of the criteria."""
    daily: dict[str, list[tuple[date, float | None]]] = defaultdict(list)
    for row in data.criteria_daily:
        daily[row["criterion"]].append((row["day"], row["pass_share"]))
    by_window = {(r["window_name"], r["criterion"]): r for r in data.criteria}
    criteria = sorted({r["criterion"] for r in data.criteria}, key=_criterion_key)
    lines = []
    for criterion in criteria:
        status_row = by_window.get(("all", criterion)) or next(r for r in data.criteria if r["criterion"] == criterion)
        window_30 = by_window.get(("30d", criterion))
        series = _downsample(daily.get(criterion, []))
        path, area = _spark_path(series)
        values = [v for _, v in series if v is not None]
        lines.append(Sparkline(
            criterion=criterion, criterion_group=status_row["criterion_group"], status=status_row["status"],
            controls=status_row["controls"], controls_with_result=status_row["controls_with_result"],
            controls_pass=status_row["controls_pass"],
            pass_share_30d=window_30["pass_share"] if window_30 else None,
            latest_share=values[-1] if values else None, path=path, area=area, points=len(series),
            first_day=series[0][0] if series else None, last_day=series[-1][0] if series else None,
        ))
    return lines


def _spark_path(series: list[tuple[date, float | None]]) -> tuple[str, str]:
    """SVG path of the line (broken where a day has no result) and of the area under it."""
    if not series:
        return "", ""
    count = len(series)
    step = SPARK_WIDTH / max(count - 1, 1)
    line: list[str] = []
    area: list[str] = []
    segment: list[tuple[float, float]] = []

    def close(points: list[tuple[float, float]]) -> None:
        if not points:
            return
        if len(points) == 1:  # a lone point still shows: a short flat tick
            x, y = points[0]
            points = [(max(x - 1.5, 0), y), (min(x + 1.5, SPARK_WIDTH), y)]
        line.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points))
        area.append(f"M{points[0][0]:.1f},{SPARK_HEIGHT} L" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)
                    + f" L{points[-1][0]:.1f},{SPARK_HEIGHT} Z")

    for index, (_, value) in enumerate(series):
        if value is None:
            close(segment)
            segment = []
            continue
        x = index * step if count > 1 else SPARK_WIDTH / 2
        y = 2 + (1 - float(value)) * (SPARK_HEIGHT - 4)
        segment.append((x, y))
    close(segment)
    return " ".join(line), " ".join(area)


def _criterion_key(criterion: str) -> tuple[str, int, int]:
    head, _, minor = criterion.partition(".")
    letters = "".join(ch for ch in head if ch.isalpha())
    major = int("".join(ch for ch in head if ch.isdigit()) or 0)
    return letters, major, int(minor or 0)


def build_sources(data: DashboardData) -> list[SourceRow]:
    """Every dataset with its health and the last STRIP_DAYS days of completeness."""
    strips: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in data.completeness:
        tip = f"{row['day']:%Y-%m-%d}: {row['day_status']}"
        if row["day_status"] == "complete":
            tip += f", {row['rows_written']} rows"
        strips[row["dataset"]].append((row["day_status"], tip))
    order = {"never_extracted": 0, "stale": 1, "last_attempt_failed": 2, "ok": 3}
    rows = [SourceRow(
        dataset=r["dataset"], kind=r["kind"], health=r["health"],
        data_as_of=_utc(r["data_as_of"]) if r["data_as_of"] else None, age_hours=r["age_hours"],
        max_age_hours=r["max_age_hours"], last_attempt_status=r["last_attempt_status"],
        last_attempt_at=_utc(r["last_attempt_at"]) if r["last_attempt_at"] else None,
        last_error=r["last_error"], completeness_30d=r["completeness_30d"],
        controls_depending=r["controls_depending"], strip=tuple(strips.get(r["dataset"], [])[-STRIP_DAYS:]),
    ) for r in data.freshness]
    return sorted(rows, key=lambda s: (order.get(s.health, 9), -s.controls_depending, s.dataset))


def summary(data: DashboardData) -> dict[str, Any]:
    """The headline figures: latest status per control, pass share, open items, source health."""
    latest = {r["control_id"]: r["status"] for r in data.status if r["is_latest_period"]}
    matrix_ids = {c["control_id"] for c in data.controls} | set(latest)
    counts = {s: sum(1 for v in latest.values() if v == s) for s in STATUSES}
    window = [e for e in data.effectiveness if e["window_name"] == "30d"]
    total = sum(e["periods_total"] for e in window)
    passed = sum(e["periods_pass"] for e in window)
    failures = [i for i in data.open_items if i["item_type"] == "failure"]
    exceptions = [i for i in data.open_items if i["item_type"] == "exception"]
    healthy = sum(1 for s in data.freshness if s["health"] == "ok")
    return {
        "controls": len(matrix_ids),
        "controls_with_result": len(latest),
        "latest_counts": counts,
        "pass_share_30d": passed / total if total else None,
        "periods_30d": total,
        "open_failures": len(failures),
        "failing_controls": len({i["control_id"] for i in failures}),
        "oldest_failure_days": max((i["age_days"] for i in failures), default=None),
        "exceptions_in_force": len(exceptions),
        "exceptions_expiring": sum(1 for i in exceptions if i["is_expiring"]),
        "sources": len(data.freshness),
        "sources_ok": healthy,
    }


# rendering -----------------------------------------------------------------------------

def _pack_linker(settings: Settings, out_dir: Path) -> Any:
    """Links to pages of the latest evidence pack (`controls/<control_id>.html`,
    `periods/<control_id>/<YYYY-MM-DD>.html`), only where the page exists: no dead links
    before a pack is built or for periods outside its window."""
    root = settings.data_dir / PACK_INDEX.parent

    def link(relative: str) -> str | None:
        page = root / relative
        if not page.is_file():
            return None
        return Path(os.path.relpath(page.resolve(), out_dir.resolve())).as_posix()

    return link


def render(settings: Settings, data: DashboardData, out_dir: Path | None = None) -> str:
    """The dashboard's HTML for `data`, with links relative to `out_dir` (default `<data_dir>/reports`)."""
    from ccm.report import evidence_linker, templates

    out_dir = out_dir or settings.data_dir / "reports"
    link = evidence_linker(settings, out_dir, resolve=True)  # one link per heatmap cell: roots resolved once
    pack_path = settings.data_dir / PACK_INDEX
    pack_href = Path(os.path.relpath(pack_path.resolve(), out_dir.resolve())).as_posix() if pack_path.is_file() else None
    docs_index = link("gx/docs/index.html")
    evidence_root = None if settings.evidence_uri.startswith("s3://") else Path(settings.evidence_uri)
    if evidence_root is not None and not (evidence_root / "gx/docs/index.html").is_file():
        docs_index = None
    failures = sorted((i for i in data.open_items if i["item_type"] == "failure"),
                      key=lambda i: (-(i["age_days"] or 0), i["control_id"], i["entity_id"]))
    exceptions = sorted((i for i in data.open_items if i["item_type"] == "exception"),
                        key=lambda i: (i["days_to_expiry"] if i["days_to_expiry"] is not None else 1e9, i["control_id"]))
    pack_link = _pack_linker(settings, out_dir)
    for item in (*failures, *exceptions):
        item["docs_href"] = link(item.get("data_docs_path")) or link(item.get("evidence_path"))
        period = item.get("latest_period_start")
        item["pack_href"] = pack_link(f"periods/{item['control_id']}/{period:%Y-%m-%d}.html") if period else None
    effectiveness = {(e["window_name"], e["control_id"]): e for e in data.effectiveness}
    titles = {c["control_id"]: c for c in data.controls}
    control_rows = []
    for control_id in sorted({e["control_id"] for e in data.effectiveness}):
        overall = effectiveness.get(("all", control_id), {})
        control_rows.append({
            "control_id": control_id, "title": titles.get(control_id, {}).get("title", ""),
            "frequency": titles.get(control_id, {}).get("frequency", ""),
            "all": overall, "d30": effectiveness.get(("30d", control_id), {}),
            "d90": effectiveness.get(("90d", control_id), {}),
        })
    control_rows.sort(key=lambda r: (r["all"].get("pass_share") is None, r["all"].get("pass_share") or 0,
                                     r["control_id"]))
    return templates().get_template("dashboard.html.j2").render(
        as_of=data.as_of, summary=summary(data), heatmap=build_heatmap(data, link),
        sparklines=build_sparklines(data), control_pages={
            c: pack_link(f"controls/{c}.html") for c in {r["control_id"] for r in data.status}
            | {c["control_id"] for c in data.controls}}, sources=build_sources(data), failures=failures,
        exceptions=exceptions, control_rows=control_rows, statuses=STATUSES, status_labels=STATUS_LABELS,
        day_statuses=DAY_STATUSES, health_labels=HEALTH_LABELS, pack_href=pack_href,
        pack_expected=str(settings.data_dir / PACK_INDEX), docs_index=docs_index,
        status_index="index.html" if (out_dir / "index.html").is_file() else None,
        geometry={"row_height": ROW_HEIGHT, "axis_height": AXIS_HEIGHT, "spark_width": SPARK_WIDTH,
                  "spark_height": SPARK_HEIGHT, "strip_cell": STRIP_CELL, "strip_days": STRIP_DAYS,
                  "label_width": 250, "share_width": 64},
    )


def write_dashboard(settings: Settings, out_dir: Path | None = None) -> Path:
    """Render the dashboard from the warehouse's marts to `<out_dir>/dashboard.html` (atomically)."""
    from ccm.warehouse import connect

    out_dir = out_dir or settings.data_dir / "reports"
    out_dir.mkdir(parents=True, exist_ok=True)
    with connect(settings.warehouse_path, read_only=True) as con:
        data = load_data(con)
    html = render(settings, data, out_dir)
    path = out_dir / DASHBOARD_FILE
    tmp = path.with_name(f".{DASHBOARD_FILE}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
