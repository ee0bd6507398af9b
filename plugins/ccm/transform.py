"""dbt, run in-process through dbtRunner: staging views, populations, marts.

The warehouse path and lake location reach dbt through environment variables read by
`dbt/profiles.yml`; generated files (target/, logs/) go under the data directory so the
project tree stays read-only and clean.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccm.config import Settings
from ccm.errors import CcmError

log = logging.getLogger(__name__)


class TransformError(CcmError):
    """dbt reported errors; the message names the failing models and tests."""


def dbt_target_dir(settings: Settings) -> Path:
    return settings.data_dir / "dbt" / "target"


def run_dbt(settings: Settings, args: list[str], variables: dict[str, Any] | None = None,
            raise_on_failure: bool = True) -> list[dict[str, Any]]:
    """Invoke dbt; returns one dict per node result. Raises TransformError if dbt could not
    run at all, and (unless `raise_on_failure` is False) if any model or test failed."""
    from dbt.cli.main import dbtRunner

    os.environ["CCM_WAREHOUSE"] = str(settings.warehouse_path)
    os.environ["CCM_LAKE_URI"] = settings.lake_uri
    _point_at_company_models(settings)
    target = dbt_target_dir(settings)
    target.mkdir(parents=True, exist_ok=True)
    command = [
        *args,
        "--project-dir", str(settings.dbt_project_dir),
        "--profiles-dir", str(settings.dbt_project_dir),
        "--target-path", str(target),
        "--log-path", str(target.parent / "logs"),
        "--vars", json.dumps(variables or {}),
        "--quiet", "--no-use-colors",
    ]
    log.info("dbt %s", " ".join(args))
    try:
        manifest = _parsed_project(settings, command[len(args):])
        # the parse wrote manifest.json (what load_manifest reads); the build would write it
        # again, with run_results.json, for nothing we read: the results are returned below
        result = dbtRunner(manifest=manifest).invoke(command + (["--no-write-json"] if manifest is not None else []))
    finally:
        _release_warehouse()
    rows: list[dict[str, Any]] = []
    failures: list[str] = []
    for node_result in getattr(result.result, "results", None) or []:
        status = str(node_result.status)
        rows.append({"node": node_result.node.unique_id, "status": status,
                     "message": node_result.message, "seconds": node_result.execution_time})
        if status in {"error", "fail", "runtime error"}:
            failures.append(f"{node_result.node.unique_id}: {node_result.message}")
    if result.exception is not None:
        raise TransformError(f"dbt {' '.join(args)} could not run: {result.exception}")
    if raise_on_failure and (failures or not result.success):
        raise TransformError(f"dbt {' '.join(args)} failed: " + ("; ".join(failures) or "see dbt logs"))
    return rows


@dataclass(frozen=True)
class ParsedProject:
    """dbt's parsed project, kept for the next invocation in this process, and what it was parsed from."""

    fingerprint: tuple[Any, ...]
    written: tuple[int, int] | None  # size and mtime of the manifest.json the parse wrote
    manifest: Any


_parsed: ParsedProject | None = None  # one project at a time: the latest one parsed in this process

# folders of the project dbt never parses (generated output); everything else is hashed by stat
_UNPARSED_DIRS = {"target", "logs", "dbt_packages", "__pycache__"}


def project_fingerprint(settings: Settings, options: list[str]) -> tuple[Any, ...]:
    """What a parse of the dbt project depends on: every file of the project (path, size,
    mtime; the company's models through their link), the options given to dbt (`--vars`,
    paths) and the environment dbt renders (`CCM_*`, `DBT_*`). Equal fingerprints mean a
    fresh parse would give the same manifest."""
    root = settings.dbt_project_dir
    files: list[tuple[str, int, int]] = []
    for folder, directories, names in os.walk(root, followlinks=True):
        if Path(folder) == root:
            directories[:] = [d for d in directories if d not in _UNPARSED_DIRS]
        directories.sort()
        for name in sorted(names):
            stat = os.stat(os.path.join(folder, name))
            files.append((os.path.relpath(os.path.join(folder, name), root), stat.st_size, stat.st_mtime_ns))
    environment = sorted((k, v) for k, v in os.environ.items() if k.startswith(("CCM_", "DBT_")))
    link = root / COMPANY_MODELS_LINK
    company_models = os.readlink(link) if link.is_symlink() else None
    return (str(root), company_models, tuple(options), tuple(environment), tuple(files))


def _written_manifest(settings: Settings) -> tuple[int, int] | None:
    """Size and mtime of target/manifest.json, the parse's copy on disk that load_manifest reads."""
    path = dbt_target_dir(settings) / "manifest.json"
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _parsed_project(settings: Settings, options: list[str]) -> Any:
    """The parsed project (dbt's Manifest) for this invocation, parsed at most once per change.

    Why: every `dbtRunner().invoke` parses the project again before it builds (partial parse
    reads and checks the whole saved state, then dbt writes the manifest out again): 1.4 s
    in a fresh process and 0.3-0.5 CPU s in a warm one (two cores), twice a run (populations,
    then marts). A process that runs dbt more
    than once (`ccm run`, `ccm demo verify`, the benchmark, tests) parses once and hands the
    Manifest to the next invocations, as dbt's programmatic API allows, for as long as the
    project's fingerprint holds (`project_fingerprint`) and the manifest.json the parse
    wrote is still there, unchanged. None when the project cannot be parsed: the
    invocation then parses itself and reports the error as before.
    """
    global _parsed
    from dbt.cli.main import dbtRunner

    fingerprint = project_fingerprint(settings, options)
    if _parsed is not None and _parsed.fingerprint == fingerprint and _parsed.written == _written_manifest(settings):
        return _parsed.manifest
    _parsed = None
    try:
        result = dbtRunner().invoke(["parse", *options])
    finally:
        _release_warehouse()
    if not result.success or result.result is None:
        return None
    _parsed = ParsedProject(fingerprint, _written_manifest(settings), result.result)
    return result.result


COMPANY_MODELS_LINK = "company_models"  # in the dbt project, listed in its model-paths, git-ignored


def _point_at_company_models(settings: Settings) -> None:
    """Make the company's population models (`<company_dir>/models`) part of the dbt project.

    dbt_project.yml lists `company_models` in its model-paths; it is a symlink, pointed here at
    the company's models before every dbt invocation and removed when there is no company
    folder. Why a link inside the project rather than the folder's absolute path in
    model-paths (dbt-core 1.11 renders env_var there and accepts an absolute path): dbt writes
    a node's compiled SQL to target/compiled/<package>/<original_file_path>, and an absolute
    original_file_path makes that the source file itself, so a build would overwrite the
    company's models. With the link the paths are relative (company_models/ctl_x.sql) and
    compiled files stay in target/. A link rather than a copy: nothing goes stale, and the
    evidence record hashes the company's file itself.
    """
    from ccm.controls.catalog import COMPANY_MODELS

    link = settings.dbt_project_dir / COMPANY_MODELS_LINK
    models = Path(settings.company_dir) / COMPANY_MODELS if settings.company_dir is not None else None
    wanted = models.resolve() if models is not None and models.is_dir() else None
    if link.is_symlink():
        if wanted is not None and Path(os.readlink(link)) == wanted:
            return
        link.unlink()
    elif link.exists():
        raise TransformError(f"{link} should be a symlink to the company's models (or absent); it is not")
    if wanted is not None:
        link.symlink_to(wanted, target_is_directory=True)


def _release_warehouse() -> None:
    """dbt-duckdb keeps its DuckDB connection open in a class attribute after a run; close it,
    so the next step (or a BI tool, or another process) can open the warehouse file."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
            DuckDBConnectionManager._ENV = None


FAILED_STATUSES = {"error", "fail", "runtime error"}


def unbuilt_models(results: list[dict[str, Any]], manifest: dict[str, Any], models: list[str]) -> dict[str, str]:
    """{model: why dbt did not build it} for every requested model that is not `success`:
    the failing nodes upstream of it (a broken staging view, a failed integrity test)."""
    status = {r["node"]: r for r in results}
    failed = {node: r for node, r in status.items() if r["status"] in FAILED_STATUSES}
    parents = manifest.get("parent_map", {})
    reasons: dict[str, str] = {}
    for model in models:
        node_id = next((n for n in status if n.startswith("model.") and n.rsplit(".", 1)[-1] == model), None)
        if node_id is not None and status[node_id]["status"] == "success":
            continue
        seen, stack, causes = set(), [node_id] if node_id else [], []
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in failed:
                causes.append(f"{current.split('.')[-2] if current.startswith('test.') else current.rsplit('.', 1)[-1]}: "
                              f"{failed[current]['message']}")
            stack += parents.get(current, [])
            # data tests hang off their model: a failed test on a parent blocks its children
            stack += [t for t in failed if t.startswith("test.") and current in parents.get(t, [])]
        reasons[model] = "; ".join(sorted(set(causes))) or f"dbt did not build {model} (status: "\
            f"{status[node_id]['status'] if node_id else 'not run'})"
    return reasons


def load_manifest(settings: Settings) -> dict[str, Any]:
    path = dbt_target_dir(settings) / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


def model_files(settings: Settings, manifest: dict[str, Any], model: str) -> tuple[Path | None, Path | None]:
    """(source SQL, compiled SQL) of a model, from dbt's manifest."""
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("name") == model:
            source = settings.dbt_project_dir / node["original_file_path"]
            compiled = dbt_target_dir(settings) / "compiled" / node["package_name"] / node["original_file_path"]
            return source, compiled
    return None, None
