"""The control matrix (`include/controls.yml`), validated on load.

Every control names the dbt model that computes its population, the GX suite that tests
it, and the datasets it needs with how fresh they must be. Errors name the entry and
the field, so a broken matrix never reaches a run.

A company's own controls live apart from the shipped matrix, in its company folder
(`Settings.company_dir`, `CCM_COMPANY_DIR`): `controls.yml` there is loaded after the
shipped matrix, and a control_id defined in both is an error naming both files. Upgrading
the product replaces the shipped matrix and never touches the company folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from ccm.constants import DatasetKind, Frequency
from ccm.errors import ConfigError

_CONTROL_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
_CRITERION = re.compile(r"^(CC[1-9]\.[0-9]+|A1\.[1-3]|C1\.[1-2]|PI1\.[1-5]|P[1-8]\.[0-9])$")
_DURATION = re.compile(r"^(\d+)([mhd])$")
_REQUIRED = ("control_id", "title", "description", "criteria", "owner", "frequency", "sources")

# the company folder's layout
COMPANY_CONTROLS = "controls.yml"
COMPANY_EXCEPTIONS = "exceptions.yml"
COMPANY_MODELS = "models"
COMPANY_SUITES = "suites"


def parse_duration(text: str, where: str) -> timedelta:
    match = _DURATION.match(str(text).strip())
    if not match:
        raise ConfigError(f"{where}: duration {text!r} must look like 30m, 6h or 2d")
    amount, unit = int(match.group(1)), match.group(2)
    return {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]


def format_duration(value: timedelta) -> str:
    """6h, 2d, 30m: how the control matrix writes a duration (the inverse of parse_duration)."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class SourceRequirement:
    """A dataset a control needs. For snapshots, `freshness` is how soon after the period
    closes it must have been observed; event datasets must be completely extracted over
    the whole period."""

    dataset: str
    freshness: timedelta

    @property
    def source(self) -> str:
        return self.dataset.split(".", 1)[0]


@dataclass(frozen=True)
class Control:
    control_id: str
    title: str
    description: str
    criteria: tuple[str, ...]
    owner: str
    frequency: Frequency
    population_model: str
    suite: str
    sources: tuple[SourceRequirement, ...]
    # the file the control is defined in (the shipped matrix or a company's controls.yml)
    defined_in: Path | None = field(default=None, compare=False)

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(s.dataset for s in self.sources)


@dataclass(frozen=True)
class Catalog:
    controls: tuple[Control, ...]

    def __iter__(self):
        return iter(self.controls)

    def __len__(self) -> int:
        return len(self.controls)

    def get(self, control_id: str) -> Control:
        for control in self.controls:
            if control.control_id == control_id:
                return control
        raise ConfigError(f"unknown control {control_id!r}; known: {', '.join(c.control_id for c in self.controls)}")

    def by_criterion(self) -> dict[str, list[Control]]:
        matrix: dict[str, list[Control]] = {}
        for control in self.controls:
            for criterion in control.criteria:
                matrix.setdefault(criterion, []).append(control)
        return dict(sorted(matrix.items(), key=lambda kv: _criterion_sort_key(kv[0])))

    def select(self, control_ids: list[str] | None) -> list[Control]:
        return list(self.controls) if not control_ids else [self.get(c) for c in control_ids]


def _criterion_sort_key(criterion: str) -> tuple[str, int, int]:
    head, _, minor = criterion.partition(".")
    letters = "".join(ch for ch in head if ch.isalpha())
    major = int("".join(ch for ch in head if ch.isdigit()) or 0)
    return letters, major, int(minor or 0)


def load_catalog(path: Path, known_datasets: dict[str, DatasetKind] | None = None, *,
                 company_dir: Path | None = None) -> Catalog:
    """Load and validate the control matrix; `known_datasets` checks every source exists.

    With `company_dir`, the company's `controls.yml` (if there is one) is loaded after the
    matrix at `path`; a control_id defined in both is an error naming both files."""
    controls = [parse_control(entry, where, known_datasets, path) for entry, where in control_entries(path)]
    _refuse_duplicates(controls)
    if company_dir is not None and (Path(company_dir) / COMPANY_CONTROLS).exists():
        company_file = Path(company_dir) / COMPANY_CONTROLS
        controls += [parse_control(entry, where, known_datasets, company_file, Path(company_dir))
                     for entry, where in control_entries(company_file, allow_empty=True)]
        _refuse_duplicates(controls)
    return Catalog(tuple(controls))


def load_controls(settings: Any, known_datasets: dict[str, DatasetKind] | None = None) -> Catalog:
    """The controls a deployment runs: the shipped matrix plus its company's controls."""
    return load_catalog(settings.controls_path, known_datasets, company_dir=settings.company_dir)


def control_entries(path: Path, allow_empty: bool = False) -> list[tuple[Any, str]]:
    """(raw entry, "<file>: control #n") for every entry of a controls file."""
    where = str(path)
    try:
        document = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{where}: file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from None
    if allow_empty and (document is None or (isinstance(document, dict) and document.get("controls") is None)):
        return []  # a company folder without controls yet
    if not isinstance(document, dict) or not isinstance(document.get("controls"), list):
        raise ConfigError(f"{where}: expected a mapping with a 'controls' list")
    return [(entry, f"{where}: control #{index}") for index, entry in enumerate(document["controls"], start=1)]


def _refuse_duplicates(controls: list[Control]) -> None:
    first: dict[str, Control] = {}
    for control in controls:
        earlier = first.setdefault(control.control_id, control)
        if earlier is control:
            continue
        if earlier.defined_in == control.defined_in:
            raise ConfigError(f"{control.defined_in}: control_id {control.control_id!r} is defined twice")
        raise ConfigError(f"control_id {control.control_id!r} is defined in both {earlier.defined_in} "
                          f"and {control.defined_in}")


def parse_control(entry: Any, where: str, known_datasets: dict[str, DatasetKind] | None,
                   defined_in: Path | None = None, company_dir: Path | None = None) -> Control:
    """One entry. A company control's suite is named by its file's absolute path without
    `.json` (`<company>/suites/ctl_<id>`): every consumer finds a suite as
    `<project>/expectations/suites/<suite>.json`, and joining an absolute path there yields
    the company's file, so the run, the evidence record and the pack hash the suite that ran."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping")
    if isinstance(entry.get("control_id"), str):
        where = f"{where} ({entry['control_id']})"
    for key in _REQUIRED:
        if entry.get(key) in (None, "", []):
            raise ConfigError(f"{where}: field {key!r} is required")
    unknown = set(entry) - {*_REQUIRED, "population_model", "suite"}
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    control_id = str(entry["control_id"])
    if not _CONTROL_ID.match(control_id):
        raise ConfigError(f"{where}: field 'control_id' must be snake_case with a domain prefix (e.g. iam_okta_mfa)")
    criteria = entry["criteria"]
    if not isinstance(criteria, list) or not all(isinstance(c, str) and _CRITERION.match(c) for c in criteria):
        raise ConfigError(f"{where}: field 'criteria' must be a list of TSC criteria such as CC6.1 or A1.2")
    try:
        frequency = Frequency(entry["frequency"])
    except ValueError:
        allowed = ", ".join(f.value for f in Frequency)
        raise ConfigError(f"{where}: field 'frequency' must be one of {allowed}; got {entry['frequency']!r}") from None
    sources = entry["sources"]
    if not isinstance(sources, list):
        raise ConfigError(f"{where}: field 'sources' must be a list")
    requirements = []
    for position, source in enumerate(sources, start=1):
        swhere = f"{where}: sources #{position}"
        if not isinstance(source, dict) or not isinstance(source.get("dataset"), str):
            raise ConfigError(f"{swhere}: expected a mapping with 'dataset'")
        dataset = source["dataset"]
        if known_datasets is not None and dataset not in known_datasets:
            raise ConfigError(f"{swhere}: field 'dataset' names unknown dataset {dataset!r}")
        freshness = parse_duration(source.get("freshness", "6h"), f"{swhere}: field 'freshness'")
        requirements.append(SourceRequirement(dataset, freshness))
    suite = str(entry.get("suite") or f"ctl_{control_id}")
    return Control(
        control_id=control_id,
        title=str(entry["title"]).strip(),
        description=" ".join(str(entry["description"]).split()),
        criteria=tuple(criteria),
        owner=str(entry["owner"]),
        frequency=frequency,
        population_model=str(entry.get("population_model") or f"ctl_{control_id}"),
        suite=suite if company_dir is None else str(Path(company_dir).resolve() / COMPANY_SUITES / suite),
        sources=tuple(requirements),
        defined_in=defined_in,
    )
