"""`ccm controls new` and `ccm controls init`: a control without writing Python.

A control is four files: its entry in a controls file, its dbt population model (SQL and
YAML) and its GX suite. `new_control` writes all four from the templates in
`ccm/templates/controls/`, ready to edit: the model selects one row per entity and period
from the staging model of the control's first dataset (with the period macros the shipped
models use, so it builds as written), its YAML has the column tests and a dbt unit test to
extend, and the suite has one expectation and no ids (they are generated when it is loaded).

A company's controls are written into its company folder (`Settings.company_dir`);
`into="shipped"` writes into the product's own matrix, for product developers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ccm.config import Settings
from ccm.constants import DatasetKind
from ccm.controls.catalog import (
    COMPANY_CONTROLS,
    COMPANY_EXCEPTIONS,
    COMPANY_MODELS,
    COMPANY_SUITES,
    load_controls,
    parse_control,
)
from ccm.errors import ConfigError

INTO_COMPANY = "company"
INTO_SHIPPED = "shipped"
# the period the unit-test skeleton uses (any closed period works)
_PERIOD_START = "2025-10-01 00:00:00+00"
_PERIOD_END = "2025-10-02 00:00:00+00"
_OBSERVED_AT = "2025-10-02 01:30:00+00"
_EVENT_TIME = "2025-10-01 12:00:00+00"

_COMPANY_README = """\
# Our own controls

This folder holds the controls this company adds to the shipped control matrix. Point
`CCM_COMPANY_DIR` at it; upgrading the product never touches it.

- `controls.yml`: catalog entries, same fields as the shipped `include/controls.yml`
- `exceptions.yml`: approved exceptions to any control (shipped or ours)
- `models/`: dbt population models, `ctl_<control_id>.sql` and `.yml`
- `suites/`: GX suites, `ctl_<control_id>.json`

Add a control with `ccm controls new`, validate everything with `ccm controls check`.
See docs/controls-howto.md.
"""


@dataclass(frozen=True)
class Target:
    """Where the files of a new control go."""

    controls_file: Path
    model_sql: Path
    model_yml: Path
    suite: Path
    company: bool

    @property
    def files(self) -> tuple[Path, Path, Path]:
        return self.model_sql, self.model_yml, self.suite


def init_company_dir(company_dir: Path) -> list[Path]:
    """Create a company folder's layout; files that exist are left as they are."""
    company_dir = Path(company_dir)
    created = []
    for name in (COMPANY_MODELS, COMPANY_SUITES):
        if not (company_dir / name).is_dir():
            (company_dir / name).mkdir(parents=True)
            created.append(company_dir / name)
    for name, text in ((COMPANY_CONTROLS, "# our own controls (ccm controls new appends here)\ncontrols:\n"),
                       (COMPANY_EXCEPTIONS, "# approved exceptions to our own or shipped controls\nexceptions: []\n"),
                       ("README.md", _COMPANY_README)):
        if not (company_dir / name).exists():
            (company_dir / name).write_text(text)
            created.append(company_dir / name)
    return created


def target_for(settings: Settings, control_id: str, into: str) -> Target:
    model = f"ctl_{control_id}"
    if into == INTO_SHIPPED:
        return Target(settings.controls_path, settings.dbt_project_dir / "models" / "controls" / f"{model}.sql",
                      settings.dbt_project_dir / "models" / "controls" / f"{model}.yml",
                      settings.gx_dir / "suites" / f"{model}.json", company=False)
    if into != INTO_COMPANY:
        raise ConfigError(f"--into must be {INTO_COMPANY} or {INTO_SHIPPED}; got {into!r}")
    if settings.company_dir is None:
        raise ConfigError("no company folder: set CCM_COMPANY_DIR to your company folder (create it with "
                          "`ccm controls init <folder>`), or pass --into shipped to add to the product's own matrix")
    company = Path(settings.company_dir)
    return Target(company / COMPANY_CONTROLS, company / COMPANY_MODELS / f"{model}.sql",
                  company / COMPANY_MODELS / f"{model}.yml", company / COMPANY_SUITES / f"{model}.json",
                  company=True)


def staging_models(dbt_project_dir: Path) -> dict[str, tuple[str, str]]:
    """{dataset table name: (staging model, its SQL)}, from the `source(...)` each staging model reads."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted((Path(dbt_project_dir) / "models" / "staging").rglob("*.sql")):
        sql = path.read_text()
        for table in re.findall(r"source\(\s*'[^']+'\s*,\s*'([^']+)'\s*\)", sql):
            found.setdefault(table, (path.stem, sql))
    return found


def _source_context(settings: Settings, dataset_key: str, staging: dict[str, tuple[str, str]]) -> dict[str, Any]:
    from ccm.sources.registry import get_dataset

    dataset = get_dataset(dataset_key)
    if dataset.table_name not in staging:
        raise ConfigError(f"dataset {dataset_key} has no staging model under "
                          f"{settings.dbt_project_dir / 'models' / 'staging'} (none reads source '{dataset.table_name}')")
    model, sql = staging[dataset.table_name]
    cte = dataset.table_name.split("__", 1)[1] if "__" in dataset.table_name else dataset.table_name
    cte = f"{dataset.source}_{cte}"
    raw_keys = [k for k in dataset.key_columns if k != dataset.time_column] or list(dataset.key_columns)
    keys = [_staging_column(sql, k) for k in raw_keys]
    types = {_staging_column(sql, c.name): c.type.value for c in dataset.columns}
    sample = {k: (1 if types.get(k) == "int" else f"{k.replace('_', '-')}-1") for k in keys}
    expression = (f"cast({cte}.{keys[0]} as varchar)" if len(keys) == 1
                  else "concat_ws('/', " + ", ".join(f"{cte}.{k}" for k in keys) + ")")
    kind = "event" if dataset.kind is DatasetKind.EVENT else "snapshot"
    given = {**sample}
    time_column = _staging_column(sql, dataset.time_column) if dataset.time_column else None
    if kind == "event":
        given[time_column] = _EVENT_TIME
    else:
        given = {"lake_file": f"{cte}-1", "observed_at": _OBSERVED_AT, **sample}
    return {
        "dataset": dataset_key, "kind": kind, "staging_model": model, "cte": cte,
        "time_column": time_column, "entity_expression": expression,
        "expected_entity": "/".join(str(v) for v in sample.values()),
        "given_row": _flow(given),
    }


def _staging_column(sql: str, raw_column: str) -> str:
    """The name a raw column has in a staging model: its own if selected as is (or `... as
    <it>`), else the alias of `<it> as <alias>`; its own name if neither is found."""
    name = re.escape(raw_column)
    if re.search(rf"^\s*(?:\w+\.)?{name}\s*,?\s*$|\bas\s+{name}\s*,?\s*$", sql, flags=re.MULTILINE):
        return raw_column
    renamed = re.search(rf"^\s*(?:\w+\.)?{name}\s+as\s+(\w+)\s*,?\s*$", sql, flags=re.MULTILINE)
    return renamed.group(1) if renamed else raw_column


def _flow(row: dict[str, Any]) -> str:
    """A YAML flow mapping, strings quoted: {a: "x", n: 1}."""
    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in row.items()) + "}"


def _templates() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    # SQL and dbt YAML use {{ }} themselves: these templates use << >> and <% %>
    return Environment(loader=PackageLoader("ccm", "templates/controls"), undefined=StrictUndefined,
                       variable_start_string="<<", variable_end_string=">>",
                       block_start_string="<%", block_end_string="%>",
                       comment_start_string="<#", comment_end_string="#>",
                       keep_trailing_newline=True, autoescape=False)


def new_control(settings: Settings, control_id: str, *, criteria: list[str], frequency: str, sources: list[str],
                title: str, owner: str, description: str | None = None, freshness: str = "6h",
                into: str = INTO_COMPANY) -> list[Path]:
    """Write a new control's catalog entry, population model (SQL, YAML) and GX suite.

    Validates the entry as the catalog would and refuses to overwrite anything: an existing
    control_id or an existing file is an error naming it. Returns the files written."""
    from ccm.sources.registry import dataset_kinds

    target = target_for(settings, control_id, into)
    entry = {"control_id": control_id, "title": title,
             "description": description or f"TODO: what {title.rstrip('.')} means, for an auditor.",
             "criteria": list(criteria), "owner": owner, "frequency": frequency,
             "sources": [{"dataset": s, "freshness": freshness} for s in sources]}
    control = parse_control(entry, f"new control {control_id}", dataset_kinds())
    existing = {c.control_id: c for c in load_controls(settings, dataset_kinds())}
    if control_id in existing:
        raise ConfigError(f"control {control_id!r} already exists in {existing[control_id].defined_in}")
    for path in target.files:
        if path.exists():
            raise ConfigError(f"{path} already exists; a new control never overwrites a file")
    staging = staging_models(settings.dbt_project_dir)
    contexts = [_source_context(settings, s, staging) for s in sources]
    context = {
        "control_id": control_id, "title": control.title, "description": control.description,
        "criteria": list(control.criteria), "owner": control.owner, "frequency": control.frequency.value,
        "sources": [dict(c, freshness=freshness) for c in contexts], "primary": contexts[0],
        "model_name": control.population_model, "suite_name": f"ctl_{control_id}", "company": target.company,
        "any_snapshot": any(c["kind"] == "snapshot" for c in contexts),
        "any_event": any(c["kind"] == "event" for c in contexts),
        "period_start": _PERIOD_START, "period_end": _PERIOD_END, "observed_at": _OBSERVED_AT,
    }
    templates = _templates()
    rendered_entry = templates.get_template("entry.yml.j2").render(context)
    parsed = yaml.safe_load("controls:" + rendered_entry)["controls"][0]
    if parse_control(parsed, f"new control {control_id}", dataset_kinds()) != control:
        raise ConfigError(f"control {control_id}: the rendered catalog entry does not read back as given")
    json.loads(templates.get_template("suite.json.j2").render(context))  # valid JSON before anything is written

    for path, template in ((target.model_sql, "model.sql.j2"), (target.model_yml, "model.yml.j2"),
                           (target.suite, "suite.json.j2")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(templates.get_template(template).render(context))
    _append_entry(target.controls_file, rendered_entry)
    return [target.controls_file, *target.files]


def _append_entry(controls_file: Path, rendered_entry: str) -> None:
    """Append one entry to a controls file (a missing file, or one without entries yet, too)."""
    if not controls_file.exists():
        controls_file.parent.mkdir(parents=True, exist_ok=True)
        controls_file.write_text("controls:\n")
    text = controls_file.read_text()
    if re.search(r"^controls:\s*\[\s*\]\s*$", text, flags=re.MULTILINE):
        text = re.sub(r"^controls:\s*\[\s*\]\s*$", "controls:", text, count=1, flags=re.MULTILINE)
        controls_file.write_text(text)
    with controls_file.open("a") as out:
        out.write(("" if text.endswith("\n") else "\n") + "\n" + rendered_entry.strip("\n") + "\n")
