"""The status index: every control's current result per period, linking into the evidence.

A static HTML page (no scripts, no CDN) regenerated after each run at
`<data_dir>/reports/index.html`; it links to the GX Data Docs page, the evaluation record
and the population file of each result in the evidence store.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ccm import clock
from ccm.config import Settings
from ccm.controls.catalog import load_controls
from ccm.warehouse import connect, ensure_schema
from ccm.webpolicy import OWN_PAGE_POLICY, csp_meta


def templates() -> Environment:
    env = Environment(loader=PackageLoader("ccm", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["csp_meta"] = Markup(csp_meta(OWN_PAGE_POLICY))  # every page: no script (ccm.webpolicy)
    return env


def relative_linker(root: Path | str, out_dir: Path | str) -> Callable[[str], str]:
    """`os.path.relpath(root / relative, out_dir)` for many `relative` paths under one root.

    The pages link every result's files, a few per control-period, so a link must not cost
    a path parse and a `relpath` each (that grew the publish step with every day of
    history): the root's own relative path is computed once and a clean relative path (no
    `.` or `..` parts, no doubled or outer slashes) is appended to it. Anything else, or an
    `out_dir` inside `root` (where a relative path's first parts could cancel out_dir's),
    takes `os.path.relpath` itself, so the result is always the same.
    """
    root_abs, out_abs = os.path.abspath(root), os.path.abspath(out_dir)
    prefix = os.path.relpath(root_abs, out_abs)
    fast = not out_abs.startswith(root_abs.rstrip("/") + "/")

    def link(relative: str) -> str:
        if fast and relative not in (".", "..") and not relative.startswith(("/", "../")) \
                and posixpath.normpath(relative) == relative:
            return relative if prefix == "." else f"{prefix}/{relative}"
        return os.path.relpath(Path(root) / relative, out_dir)

    return link


def evidence_linker(settings: Settings, out_dir: Path, resolve: bool = False) -> Callable[[str | None], str | None]:
    """Links from pages in `out_dir` to files of the evidence store (None for no file, and
    for a store on S3, which local pages cannot link into). `resolve`: link between the
    resolved paths (symbolic links followed), as the dashboard does."""
    if settings.evidence_uri.startswith("s3://"):
        return lambda relative: None
    root = Path(settings.evidence_uri)
    evidence_link = relative_linker(root.resolve(), out_dir.resolve()) if resolve else relative_linker(root, out_dir)
    return lambda relative: evidence_link(relative) if relative else None


def current_results(settings: Settings) -> list[dict[str, Any]]:
    with connect(settings.warehouse_path) as con:
        ensure_schema(con)
        cursor = con.execute(
            "select control_id, period_start, period_end, version, status, population_size, failing_count, "
            "excepted_count, failing_entity_ids, reason, data_docs_path, evidence_path, population_path, run_id "
            "from ccm.current_results order by control_id, period_start"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def write_index(settings: Settings) -> Path:
    out_dir = settings.data_dir / "reports"
    out_dir.mkdir(parents=True, exist_ok=True)
    catalog = load_controls(settings)
    rows = current_results(settings)
    link = evidence_linker(settings, out_dir)
    for row in rows:
        row["docs_href"] = link(row["data_docs_path"])
        row["record_href"] = link(row["evidence_path"])
        row["population_href"] = link(row["population_path"])
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    html = templates().get_template("index.html.j2").render(
        controls={c.control_id: c for c in catalog}, rows=rows, counts=counts,
        generated_at=clock.now(), docs_index=link("gx/docs/index.html"),
    )
    path = out_dir / "index.html"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(html)
    tmp.replace(path)
    return path
