"""What the publish step produces after every evaluation: marts, exports, index, dashboard.

Shared by the DAG's `publish` task, `ccm publish` and `ccm dashboard`, so every caller
leaves the same artefacts: the marts rebuilt in the warehouse and exported (Parquet and
`ccm_metrics.duckdb`), the status index and the dashboard regenerated from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ccm.config import Settings


@dataclass(frozen=True)
class Published:
    index: Path
    dashboard: Path
    marts: dict[str, int]
    marts_location: str | None
    bi_database: str | None

    def as_dict(self) -> dict[str, object]:
        return {"index": str(self.index), "dashboard": str(self.dashboard), "marts": self.marts,
                "marts_location": self.marts_location, "bi_database": self.bi_database}


def publish_metrics(settings: Settings, as_of: datetime | None = None, build: bool = True) -> Published:
    """Rebuild and export the marts (unless `build` is false), then write the index and the dashboard.

    `as_of` defaults to the pipeline clock, so the demo's figures follow its simulated time.
    """
    from ccm import clock
    from ccm.metrics.dashboard import write_dashboard
    from ccm.metrics.marts import build_marts
    from ccm.report import write_index

    # the index reads the results directly: refreshed first, so it is current even if a mart fails its tests
    index = write_index(settings)
    marts, location, bi_database = {}, None, None
    if build:
        result = build_marts(settings, as_of or clock.now())
        marts, location, bi_database = result.marts, result.location, result.bi_database
    dashboard = write_dashboard(settings)
    return Published(index, dashboard, marts, location, bi_database)
