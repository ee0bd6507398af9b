"""Settings: where the lake, evidence store, warehouse and project files live.

Read once from the environment (the CLI, the DAGs and tests all call `Settings.from_env`);
validated on creation so a typo fails at start-up, not half-way through a run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from ccm.errors import ConfigError

PROJECT_DIR_ENV = "CCM_PROJECT_DIR"
INBOX_MAPPING_FILE = "inbox_mapping.yml"


def _default_project_dir() -> Path:
    # plugins/ccm/config.py -> project root (also true inside the Docker image, /opt/airflow)
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """Locations and knobs of one deployment.

    `lake_uri` and `evidence_uri` are local directories by default and may be `s3://bucket/prefix`.
    """

    project_dir: Path
    data_dir: Path
    lake_uri: str
    evidence_uri: str
    inbox_uri: str  # where HR / LMS / GRC exports are dropped (directory or s3://bucket/prefix)
    warehouse_path: Path
    controls_path: Path
    exceptions_path: Path
    # the company's own controls, apart from the shipped matrix (see ccm.controls.company):
    # controls.yml, exceptions.yml, models/ (dbt population models) and suites/ (GX suites)
    company_dir: Path | None = None
    late_data_lookback: timedelta = timedelta(days=1)
    s3_endpoint_url: str | None = None
    evidence_retention_days: int = 400
    http_max_attempts: int = 6
    http_max_total_wait_s: float = 300.0
    # how inbox exports differ from their contracts (column names, date formats, encoding):
    # CCM_INBOX_MAPPING, else the company folder's inbox_mapping.yml if there is one
    inbox_mapping_path: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("controls_path",):
            path = getattr(self, name)
            if not Path(path).exists():
                raise ConfigError(f"settings: {name} points at {path}, which does not exist")
        if self.company_dir is not None and not Path(self.company_dir).is_dir():
            raise ConfigError(f"settings: CCM_COMPANY_DIR points at {self.company_dir}, which is not a directory "
                              "(create it with `ccm controls init`)")
        if self.inbox_mapping_path is not None and not Path(self.inbox_mapping_path).is_file():
            raise ConfigError(f"settings: CCM_INBOX_MAPPING points at {self.inbox_mapping_path}, which is not a file")
        if self.late_data_lookback < timedelta(0):
            raise ConfigError("settings: CCM_LATE_DATA_LOOKBACK_HOURS must not be negative")

    # project files -------------------------------------------------------------------
    @property
    def dbt_project_dir(self) -> Path:
        return self.project_dir / "dbt"

    @property
    def gx_dir(self) -> Path:
        return self.project_dir / "expectations"

    @property
    def include_dir(self) -> Path:
        return self.project_dir / "include"

    def project_relative(self, path: Path | str) -> str:
        """A path as evidence and messages show it: relative to the project where it lies
        inside it (the same on every checkout), else as it is (a company folder's file)."""
        try:
            return Path(path).resolve().relative_to(self.project_dir.resolve()).as_posix()
        except ValueError:
            return str(path)

    @property
    def is_lake_local(self) -> bool:
        return not self.lake_uri.startswith("s3://")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        project_dir = Path(env.get(PROJECT_DIR_ENV) or _default_project_dir()).resolve()
        data_dir = Path(env.get("CCM_DATA_DIR") or project_dir / "var").resolve()
        try:
            lookback_hours = float(env.get("CCM_LATE_DATA_LOOKBACK_HOURS", "24"))
            retention = int(env.get("CCM_EVIDENCE_RETENTION_DAYS", "400"))
            http_attempts = int(env.get("CCM_HTTP_MAX_ATTEMPTS", "6"))
            http_wait = float(env.get("CCM_HTTP_MAX_TOTAL_WAIT_SECONDS", "300"))
        except ValueError as exc:
            raise ConfigError(f"settings: {exc}") from exc
        company_dir = Path(env["CCM_COMPANY_DIR"]).resolve() if env.get("CCM_COMPANY_DIR") else None
        mapping = (Path(env["CCM_INBOX_MAPPING"]) if env.get("CCM_INBOX_MAPPING")
                   else company_dir / INBOX_MAPPING_FILE
                   if company_dir and (company_dir / INBOX_MAPPING_FILE).is_file() else None)
        return cls(
            project_dir=project_dir,
            data_dir=data_dir,
            lake_uri=env.get("CCM_LAKE_URI") or str(data_dir / "lake"),
            evidence_uri=env.get("CCM_EVIDENCE_URI") or str(data_dir / "evidence"),
            inbox_uri=env.get("CCM_INBOX_URI") or str(data_dir / "inbox"),
            warehouse_path=Path(env.get("CCM_WAREHOUSE") or data_dir / "warehouse.duckdb"),
            controls_path=Path(env.get("CCM_CONTROLS") or project_dir / "include" / "controls.yml"),
            exceptions_path=Path(env.get("CCM_EXCEPTIONS") or project_dir / "include" / "exceptions.yml"),
            company_dir=company_dir,
            inbox_mapping_path=mapping,
            late_data_lookback=timedelta(hours=lookback_hours),
            s3_endpoint_url=env.get("CCM_S3_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL") or None,
            evidence_retention_days=retention,
            http_max_attempts=http_attempts,
            http_max_total_wait_s=http_wait,
        )

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)
