"""Benchmark: what a Great Expectations validation costs per control-period, against a plain
DuckDB query computing the same verdict.

    .venv/bin/python bench/gx_vs_sql.py [--employees 300] [--days 31] [--data-dir DIR]

Without `--data-dir` the demo company is generated and its first `--days` days are run
through the pipeline's fast path (`ccm demo verify`'s: extract day by day, evaluate the
window once), which leaves every period's population in the warehouse; with it, an
existing data directory of such a run is used (e.g. `bench/end_to_end.py --mode window
--dir DIR`, whose data is in DIR/var).

For every control-period with a population it then measures:

- gx: `SuiteRunner.validate` as the evaluate step calls it: the suite's validation on the
  population DataFrame, GX storing the result JSON, and (reported apart) rendering the
  Data Docs page;
- sql: one DuckDB query over the population table for that period, translated from the
  same suite (row-level expectations become predicates naming the failing `entity_id`s,
  table-level ones a control-level failure);
- load: reading the period's population into a DataFrame (what GX needs first).

The verdicts must agree (failing entities, control-level failures): the translation is a
second reading of every suite, and a disagreement is printed. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CONTROL_LEVEL = "(control)"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _condition(kwargs: dict[str, Any]) -> str:
    """A GX pandas `row_condition` (`severity=="critical"`, `requires_kms == True`) as SQL."""
    condition = kwargs.get("row_condition")
    if not condition:
        return "true"
    if isinstance(condition, dict):
        condition = condition["pass_through_filter"]
    text = condition.replace("==", "=").replace('"', "'").replace("True", "true").replace("False", "false")
    membership = re.fullmatch(r"([a-z_]+) in \[('[^']*'(?:, ?'[^']*')*)\]", text)  # pandas `x in [...]`
    if membership:
        return f"{membership.group(1)} in ({membership.group(2)})"
    if not re.fullmatch(r"[a-z_]+ ?= ?('[^']*'|true|false)", text):
        raise ValueError(f"row_condition {condition!r} is not translated")
    return text


def expectation_sql(expectation: dict[str, Any]) -> tuple[str, str]:
    """(kind, SQL): kind 'row' gives a predicate true for a failing row; 'table' a boolean
    over the whole period that is true when the expectation fails. GX's semantics: column
    value expectations skip NULLs (except the null checks themselves)."""
    kind, kw = expectation["type"], dict(expectation["kwargs"])
    supported = {"column", "min_value", "max_value", "strict_min", "strict_max", "value_set", "column_A",
                 "column_B", "ignore_row_if", "row_condition", "condition_parser"}
    if set(kw) - supported:
        raise ValueError(f"{kind}: kwargs {sorted(set(kw) - supported)} are not translated")
    column = f'"{kw["column"]}"' if "column" in kw else None
    where = _condition(kw)

    def bounds(expr: str) -> str:
        parts = []
        if kw.get("min_value") is not None:
            parts.append(f"{expr} {'>' if kw.get('strict_min') else '>='} {_literal(kw['min_value'])}")
        if kw.get("max_value") is not None:
            parts.append(f"{expr} {'<' if kw.get('strict_max') else '<='} {_literal(kw['max_value'])}")
        return " and ".join(parts) or "true"

    if kind == "expect_column_values_to_not_be_null":
        return "row", f"({where}) and {column} is null"
    if kind == "expect_column_values_to_be_null":
        return "row", f"({where}) and {column} is not null"
    if kind == "expect_column_values_to_be_between":
        return "row", f"({where}) and {column} is not null and not ({bounds(column)})"
    if kind == "expect_column_values_to_be_in_set":
        values = ", ".join(_literal(v) for v in kw["value_set"])
        return "row", f"({where}) and {column} is not null and {column} not in ({values})"
    if kind in ("expect_column_pair_values_a_to_be_greater_than_b", "expect_column_pair_values_to_be_equal"):
        a, b = f'"{kw["column_A"]}"', f'"{kw["column_B"]}"'
        skip = {"either_value_is_missing": f"{a} is null or {b} is null",
                "both_values_are_missing": f"{a} is null and {b} is null"}[kw.get("ignore_row_if", "both_values_are_missing")]
        holds = f"{a} > {b}" if kind.endswith("greater_than_b") else f"{a} = {b}"
        return "row", f"({where}) and not ({skip}) and not coalesce({holds}, false)"
    if kind == "expect_table_row_count_to_be_between":
        return "table", f"not ({bounds('count(*)')})"
    if kind == "expect_column_min_to_be_between":
        return "table", f"not coalesce({bounds(f'min({column})')}, false)"
    if kind == "expect_column_distinct_values_to_contain_set":
        values = ", ".join(_literal(v) for v in kw["value_set"])
        return "table", f"not list_has_all(list(distinct {column}), [{values}])"
    raise ValueError(f"{kind} is not translated")


def suite_sql(suite: dict[str, Any], table: str) -> str:
    """One query: the failing entity ids of a period (`?` = period_start), plus the marker
    of a control-level failure."""
    rows, tables = [], []
    for expectation in suite["expectations"]:
        kind, predicate = expectation_sql(expectation)
        (rows if kind == "row" else tables).append(predicate)
    parts = [f"select distinct cast(entity_id as varchar) as failing from {table} "
             f"where period_start = $period and (({') or ('.join(rows)}))"] if rows else []
    if tables:
        parts.append(f"select '{CONTROL_LEVEL}' from {table} where period_start = $period "
                     f"having ({') or ('.join(tables)})")
    return " union ".join(parts)


def ensure_run(args: argparse.Namespace) -> Path:
    """A data directory holding every period's population of the window."""
    if args.data_dir:
        return Path(args.data_dir)
    from datetime import date

    from ccm.config import Settings
    from ccm_demo.simulator import generate
    from ccm_demo.spec import DemoSpec
    from ccm_demo.verify import run_window

    root = Path(tempfile.mkdtemp(prefix="ccm-bench-gx-"))
    spec = DemoSpec(seed=7, employees=args.employees, days=max(args.days, 7), start=date(2025, 10, 1))
    demo = generate(spec, root / "demo")
    settings = Settings.from_env({"CCM_DATA_DIR": str(root / "var"), "CCM_EXCEPTIONS": str(demo / "exceptions.yml")})
    began = time.perf_counter()
    run_window(settings, demo, args.days)
    print(f"ran {args.days} days of {args.employees} employees in {time.perf_counter() - began:.0f}s → {root}")
    return root / "var"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=300)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--data-dir", help="an existing data directory (CCM_DATA_DIR) of a window run")
    parser.add_argument("--out", type=Path, help="write every figure here (JSON)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # pandas 3 on DuckDB's .df()
    data_dir = ensure_run(args)

    import duckdb

    from ccm.config import Settings
    from ccm.controls.catalog import load_catalog
    from ccm.controls.gx_runner import SuiteRunner

    settings = Settings.from_env({"CCM_DATA_DIR": str(data_dir)})
    catalog = load_catalog(settings.controls_path)
    scratch = Path(tempfile.mkdtemp(prefix="ccm-bench-gx-out-"))
    runner = SuiteRunner(settings.gx_dir / "suites", scratch / "validations", scratch / "docs")
    render = runner._render_page  # timed apart: the page is evidence, but not the test
    rendered = [0.0]

    def timed_render(*a: Any, **kw: Any) -> Any:
        began = time.perf_counter()
        try:
            return render(*a, **kw)
        finally:
            rendered[0] += time.perf_counter() - began

    runner._render_page = timed_render
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    rows: list[dict[str, Any]] = []
    disagreements: list[str] = []
    for control in catalog:
        table = f'controls."{control.population_model}"'
        try:
            periods = [r[0] for r in con.execute(f"select distinct period_start from {table} order by 1").fetchall()]
        except duckdb.CatalogException:
            continue
        suite = json.loads((settings.gx_dir / "suites" / f"{control.suite}.json").read_text())
        query = suite_sql(suite, table)
        for period in periods:
            began = time.perf_counter()
            frame = con.execute(f"select * from {table} where period_start = ? order by entity_id", [period]).df()
            load = time.perf_counter() - began
            rendered[0] = 0.0
            began = time.perf_counter()
            outcome = runner.validate(control.suite, frame, f"bench__{control.control_id}__{period:%Y%m%d}",
                                      datetime.now(UTC))
            gx = time.perf_counter() - began
            began = time.perf_counter()
            failing = {r[0] for r in con.execute(query, {"period": period}).fetchall()}
            sql = time.perf_counter() - began
            if failing != set(outcome.failing_entity_ids):
                disagreements.append(f"{control.control_id} {period:%Y-%m-%d}: gx {sorted(outcome.failing_entity_ids)} "
                                     f"sql {sorted(failing)}")
            rows.append({"control_id": control.control_id, "period": f"{period:%Y-%m-%d}", "rows": len(frame),
                         "load_ms": load * 1000, "gx_ms": (gx - rendered[0]) * 1000,
                         "gx_docs_page_ms": rendered[0] * 1000, "sql_ms": sql * 1000})
    if not rows:
        sys.exit("no populations in the warehouse: run the pipeline over a window first")

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rows)

    summary = {
        "control_periods": len(rows), "controls": len({r["control_id"] for r in rows}),
        "median_rows": statistics.median(r["rows"] for r in rows), "max_rows": max(r["rows"] for r in rows),
        "median_ms": {k: median(k) for k in ("load_ms", "gx_ms", "gx_docs_page_ms", "sql_ms")},
        "total_s": {k: sum(r[k] for r in rows) / 1000 for k in ("load_ms", "gx_ms", "gx_docs_page_ms", "sql_ms")},
        "gx_over_sql": median("gx_ms") / median("sql_ms"),
        "verdicts_agree": len(rows) - len(disagreements),
        "disagreements": disagreements,
    }
    print(json.dumps(summary, indent=2))
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))
    sys.exit(1 if disagreements else 0)


if __name__ == "__main__":
    main()
