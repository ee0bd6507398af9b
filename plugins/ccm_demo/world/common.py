"""Helpers shared by the world modules: deterministic randomness, ids, timestamps, files."""

from __future__ import annotations

import hashlib
import json
import random
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_ALNUM = string.ascii_letters + string.digits


def rng_for(seed: int, topic: str) -> random.Random:
    """An independent, reproducible random stream per topic, so adding a topic never shifts another."""
    digest = hashlib.sha256(f"{seed}:{topic}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def okta_id(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice(_ALNUM) for _ in range(17))


def iso(moment: datetime | None, millis: bool = True) -> str | None:
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def day_at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def is_workday(moment: datetime) -> bool:
    return moment.weekday() < 5


def write_json(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


def days_between(start: datetime, end: datetime) -> int:
    return (end - start) // timedelta(days=1)
