"""The pipeline's notion of "now".

Production reads the system clock. The demo organisation runs on a simulated clock that
its runner advances interval by interval; it publishes the time in a file named by
`CCM_CLOCK_FILE`, and everything that stamps an observation (`observed_at`) or asks
"what has been delivered by now" reads it through here. Extract code never knows whether
the clock is simulated.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

CLOCK_FILE_ENV = "CCM_CLOCK_FILE"


def now() -> datetime:
    """Current UTC time (simulated when `CCM_CLOCK_FILE` is set)."""
    path = os.environ.get(CLOCK_FILE_ENV)
    if path:
        return read_clock_file(Path(path))
    return datetime.now(UTC)


def read_clock_file(path: Path) -> datetime:
    return read_iso(path.read_text())


def read_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def write_clock_file(path: Path, moment: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(moment.astimezone(UTC).isoformat().replace("+00:00", "Z"))
    tmp.replace(path)
