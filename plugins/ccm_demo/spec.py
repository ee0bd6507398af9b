"""The demo company's parameters, and the files its generator writes."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ccm.errors import ConfigError

SPEC_FILE = "spec.json"
ANSWER_KEY_FILE = "answer_key.csv"
EXCEPTIONS_FILE = "exceptions.yml"
CLOCK_FILE = "clock"


@dataclass(frozen=True)
class DemoSpec:
    """seed, size and window of the simulated company.

    The window starts on a quarter boundary so monthly and quarterly periods are whole;
    182 days from 2025-10-01 close two quarters, six months and the year 2025.
    `run_delay_minutes` is how long after each day closes the demo's daily run happens
    (the simulated clock during that run), which is also when snapshots are observed.
    """

    seed: int = 7
    employees: int = 300
    start: date = date(2025, 10, 1)
    days: int = 182
    scale: int = 1
    run_delay_minutes: int = 90

    def __post_init__(self) -> None:
        if self.employees < 20:
            raise ConfigError("demo: at least 20 employees (the seeded violations need people)")
        if self.days < 7:
            raise ConfigError("demo: at least 7 days")
        if self.scale < 1:
            raise ConfigError("demo: scale must be >= 1")

    @property
    def window_start(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def window_end(self) -> datetime:
        return self.window_start + timedelta(days=self.days)

    @property
    def run_delay(self) -> timedelta:
        return timedelta(minutes=self.run_delay_minutes)

    def observation_time(self, period_end: datetime) -> datetime:
        """When the demo's run that closes a period observes snapshots."""
        return period_end + self.run_delay

    def to_json(self) -> str:
        doc = asdict(self)
        doc["start"] = self.start.isoformat()
        return json.dumps(doc, sort_keys=True, indent=1)

    @classmethod
    def load(cls, demo_dir: Path) -> DemoSpec:
        path = Path(demo_dir) / SPEC_FILE
        if not path.exists():
            raise ConfigError(f"{path}: no demo generated here; run `ccm demo generate` first")
        doc = json.loads(path.read_text())
        doc["start"] = date.fromisoformat(doc["start"])
        return cls(**doc)
