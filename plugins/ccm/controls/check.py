"""`ccm controls check`: every control's whole chain, each problem naming its file and field.

For each control of the shipped matrix and of the company folder:
- the catalog entry is valid (fields, criteria, frequency, owner, a known dataset per
  source, a control_id defined once);
- its population model file exists (`dbt/models/**` or `<company>/models/**`);
- the model yields `entity_id`, `period_start` and `period_end`;
- its GX suite file exists and reads, every expectation's type is a GX expectation type
  and every column an expectation names is a column of the model.

The model's columns are the columns dbt actually builds: the populations (and the staging
and intermediate views under them) are built with `dbt build` into a throw-away DuckDB
warehouse whose lake views are empty but typed (`register_planned_files` with no files),
with the dbt unit tests and without the data tests (there is no data). Declared YAML
columns are not enough (they document only some columns), and compiling without building
cannot tell a column that does not bind. It costs a dbt parse plus a build of empty views
and tables; `build=False` checks the rest without it.

Also: a company model named like a product model (dbt could not parse the project) and
two controls sharing a suite name are problems.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ccm.config import Settings
from ccm.controls.catalog import (
    COMPANY_CONTROLS,
    COMPANY_MODELS,
    Control,
    control_entries,
    parse_control,
)
from ccm.controls.gx_runner import ENTITY_COLUMN
from ccm.controls.suites import read_suite, suite_path
from ccm.errors import ConfigError

log = logging.getLogger(__name__)

PERIOD_COLUMNS = ("period_start", "period_end")
REQUIRED_COLUMNS = (ENTITY_COLUMN, *PERIOD_COLUMNS)
# expectation kwargs that name a column of the batch
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list", "column_set")

# {model name: its columns, or None if it could not be built (and why)}
ModelColumns = dict[str, tuple[str, ...] | None]


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


@dataclass(frozen=True)
class CheckReport:
    controls: tuple[Control, ...]
    problems: tuple[Problem, ...]
    columns_checked: bool

    @property
    def ok(self) -> bool:
        return not self.problems


def controls_files(settings: Settings) -> list[tuple[Path, Path | None]]:
    """(controls file, company folder or None) for the shipped matrix and the company's file."""
    files: list[tuple[Path, Path | None]] = [(Path(settings.controls_path), None)]
    if settings.company_dir is not None and (Path(settings.company_dir) / COMPANY_CONTROLS).exists():
        files.append((Path(settings.company_dir) / COMPANY_CONTROLS, Path(settings.company_dir)))
    return files


def model_dirs(settings: Settings) -> list[Path]:
    dirs = [settings.dbt_project_dir / "models"]
    if settings.company_dir is not None:
        dirs.append(Path(settings.company_dir) / COMPANY_MODELS)
    return dirs


def find_model_file(settings: Settings, model: str) -> Path | None:
    for directory in model_dirs(settings):
        found = sorted(directory.rglob(f"{model}.sql")) if directory.is_dir() else []
        if found:
            return found[0]
    return None


def load_entries(settings: Settings, problems: list[Problem]) -> list[Control]:
    """Every entry that parses; every one that does not (or repeats a control_id) is a problem."""
    from ccm.sources.registry import dataset_kinds

    known = dataset_kinds()
    controls: list[Control] = []
    first: dict[str, Control] = {}
    for path, company_dir in controls_files(settings):
        shown = settings.project_relative(path)
        try:
            entries = control_entries(path, allow_empty=company_dir is not None)
        except ConfigError as exc:
            problems.append(Problem(shown, "controls", str(exc).removeprefix(f"{path}: ")))
            continue
        for entry, where in entries:
            try:
                control = parse_control(entry, where, known, path, company_dir)
            except ConfigError as exc:
                field, message = _split(str(exc).removeprefix(f"{path}: "))
                problems.append(Problem(shown, field, message))
                continue
            earlier = first.setdefault(control.control_id, control)
            if earlier is not control:
                problems.append(Problem(shown, f"{where.removeprefix(f'{path}: ')} ({control.control_id}): "
                                               "field 'control_id'",
                                        f"{control.control_id!r} is already defined in "
                                        f"{settings.project_relative(earlier.defined_in or '')}"))
                continue
            controls.append(control)
    return controls


def _split(message: str) -> tuple[str, str]:
    """'control #3 (x): field 'owner' is required' -> ('control #3 (x): field 'owner'', 'is required')."""
    head, sep, rest = message.partition(": field ")
    if not sep:
        return message.rsplit(": ", 1)[0] if ": " in message else "entry", message.rsplit(": ", 1)[-1]
    name, _, tail = rest.partition(" ")
    return f"{head}: field {name}", tail


def gx_expectation_types() -> set[str]:
    import great_expectations  # noqa: F401  (registers the core expectations)
    from great_expectations.expectations.registry import list_registered_expectation_implementations

    return set(list_registered_expectation_implementations())


def check_controls(settings: Settings, *, build: bool = True,
                   model_columns: ModelColumns | Callable[[Settings, list[str]], ModelColumns] | None = None,
                   expectation_types: set[str] | None = None) -> CheckReport:
    """Check every control's chain. `model_columns` (a mapping, or a function of the models)
    replaces the dbt build; `build=False` skips the column checks."""
    problems: list[Problem] = []
    controls = load_entries(settings, problems)
    model_files: dict[str, Path] = {}
    for control in controls:
        path = find_model_file(settings, control.population_model)
        if path is None:
            where = " or ".join(settings.project_relative(d) + "/" for d in model_dirs(settings))
            problems.append(Problem(settings.project_relative(control.defined_in or ""),
                                    f"control {control.control_id}: field 'population_model'",
                                    f"no dbt model {control.population_model}.sql under {where}"))
        else:
            model_files[control.population_model] = path
    problems += _name_clashes(settings, controls)
    columns: ModelColumns | None = None
    if model_files and (build or model_columns is not None):
        models = sorted(model_files)
        if model_columns is None:
            columns = build_model_columns(settings, models, problems, model_files)
        elif callable(model_columns):
            columns = model_columns(settings, models)
        else:
            columns = model_columns
        for model, path in sorted(model_files.items()):
            have = columns.get(model)
            if have is None:
                continue  # could not be built: already a problem
            for name in REQUIRED_COLUMNS:
                if name not in have:
                    problems.append(Problem(settings.project_relative(path), "columns",
                                            f"the model yields no column {name!r} (it yields: {', '.join(have)})"))
    types = expectation_types if expectation_types is not None else gx_expectation_types()
    for control in controls:
        problems += _check_suite(settings, control, types, columns)
    return CheckReport(tuple(controls), tuple(problems), columns is not None)


def _name_clashes(settings: Settings, controls: list[Control]) -> list[Problem]:
    """A company model named like a product model breaks dbt's parse of the whole project; two
    controls whose suites share a file name cannot both be validated in one run."""
    problems = []
    if settings.company_dir is not None and (Path(settings.company_dir) / COMPANY_MODELS).is_dir():
        product = {p.stem: p for p in (settings.dbt_project_dir / "models").rglob("*.sql")}
        for path in sorted((Path(settings.company_dir) / COMPANY_MODELS).rglob("*.sql")):
            if path.stem in product:
                problems.append(Problem(settings.project_relative(path), "file name",
                                        f"dbt model {path.stem} is also the product's "
                                        f"{settings.project_relative(product[path.stem])}; rename yours"))
    by_name: dict[str, Control] = {}
    for control in controls:
        earlier = by_name.setdefault(Path(control.suite).name, control)
        if earlier is not control:
            problems.append(Problem(settings.project_relative(control.defined_in or ""),
                                    f"control {control.control_id}: field 'suite'",
                                    f"suite {Path(control.suite).name} is also the suite of {earlier.control_id}"))
    return problems


def _check_suite(settings: Settings, control: Control, types: set[str], columns: ModelColumns | None) -> list[Problem]:
    path = suite_path(settings.gx_dir / "suites", control.suite)
    if not path.exists():
        return [Problem(settings.project_relative(control.defined_in or ""), f"control {control.control_id}: field 'suite'",
                        f"no GX suite file {settings.project_relative(path)}")]
    shown = settings.project_relative(path)
    try:
        document = read_suite(path)
    except ConfigError as exc:
        return [Problem(shown, "suite", str(exc).removeprefix(f"{path}: "))]
    have = (columns or {}).get(control.population_model)
    problems = []
    for index, expectation in enumerate(document["expectations"], start=1):
        field = f"expectations #{index} ({expectation['type']})"
        if expectation["type"] not in types:
            problems.append(Problem(shown, f"{field}: field 'type'",
                                    f"{expectation['type']!r} is not a Great Expectations expectation type"))
        if have is None:
            continue
        kwargs = expectation["kwargs"]
        named = [(k, kwargs[k]) for k in _COLUMN_KWARGS if isinstance(kwargs.get(k), str)]
        named += [(k, c) for k in _COLUMN_LIST_KWARGS if isinstance(kwargs.get(k), list) for c in kwargs[k]]
        for key, column in named:
            if column not in have:
                problems.append(Problem(shown, f"{field}: field 'kwargs.{key}'",
                                        f"column {column!r} is not a column of model {control.population_model} "
                                        f"(it has: {', '.join(have)})"))
    return problems


def build_model_columns(settings: Settings, models: list[str], problems: list[Problem],
                        model_files: dict[str, Path]) -> ModelColumns:
    """Build the models into a throw-away warehouse over an empty lake; their columns as built."""
    from ccm.lake import Lake
    from ccm.sources.registry import ALL_DATASETS
    from ccm.transform import run_dbt
    from ccm.warehouse import connect, ensure_schema, register_lake, register_planned_files

    with tempfile.TemporaryDirectory(prefix="ccm-controls-check-") as scratch:
        root = Path(scratch)
        (root / "lake").mkdir()
        check = settings.with_overrides(data_dir=root, warehouse_path=root / "check.duckdb",
                                        lake_uri=str(root / "lake"))
        lake = Lake(check.lake_uri)
        with connect(check.warehouse_path) as con:
            ensure_schema(con)
            register_lake(con, lake, list(ALL_DATASETS))
            register_planned_files(con, lake, list(ALL_DATASETS), {})
        results = run_dbt(check, ["build", "--select", *[f"+{m}" for m in models],
                                  "--exclude", "resource_type:test"], raise_on_failure=False)
        with connect(check.warehouse_path) as con:
            built: dict[str, list[str]] = {}
            for table, column in con.execute(
                    "select table_name, column_name from duckdb_columns() where schema_name = 'controls' "
                    "order by table_name, column_index").fetchall():
                built.setdefault(table, []).append(column)
    failed = {r["node"]: r for r in results if r["status"] in {"error", "fail", "runtime error", "skipped"}}
    columns: ModelColumns = {}
    for model in models:
        if model in built:
            columns[model] = tuple(built[model])
            continue
        columns[model] = None
        reasons = [f"{node.split('.')[-1]}: {r['status']}: {(r['message'] or '').strip()}"
                   for node, r in failed.items() if node.split(".")[-1] == model or f".{model}." in node]
        problems.append(Problem(settings.project_relative(model_files[model]), "build",
                                "dbt could not build the model: " + ("; ".join(reasons) or "see dbt logs")))
    return columns


def describe_report(report: CheckReport) -> list[str]:
    lines = [str(p) for p in report.problems]
    checked = "catalog, model files, model columns, suites" if report.columns_checked \
        else "catalog, model files, suites (not the model columns)"
    lines.append(f"{len(report.controls)} controls checked ({checked}): "
                 + ("OK" if report.ok else f"{len(report.problems)} problem(s)"))
    return lines
