"""Oracles: for each control, what the simulated world says it should conclude.

Each module here defines `ORACLES = {control_id: Oracle(frequency, judge)}`, where
`judge(view, period)` returns the failing entity ids (an empty list for a clean period)
or None when the control cannot be tested for that period (its source was down when
the demo's run observed it). Oracles read the world (through `WorldView`), never the
API, lake or warehouse, so the answer key is independent of the pipeline.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ccm.constants import Frequency
from ccm.periods import Period
from ccm_demo.key_rules import KeyException
from ccm_demo.spec import DemoSpec
from ccm_demo.world.common import parse, read_json


@dataclass
class WorldView:
    """Read access to the generated world, loaded lazily and cached."""

    spec: DemoSpec
    demo_dir: Path
    exceptions: list[KeyException]  # the key's own reading of the demo's exceptions.yml
    _cache: dict[str, Any] = field(default_factory=dict)

    def load(self, relative: str) -> Any:
        """A JSON file of the world, e.g. view.load("world/okta_users.json")."""
        if relative not in self._cache:
            self._cache[relative] = read_json(self.demo_dir / relative)
        return self._cache[relative]

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """Cache a derived structure (an index, a timeline) across periods."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    @property
    def outages(self) -> list[dict[str, str]]:
        return self.load("world/outages.json")

    def source_down(self, source: str, moment: datetime) -> bool:
        return any(o["source"] == source and parse(o["start"]) <= moment < parse(o["end"]) for o in self.outages)

    def observed(self, period: Period) -> datetime:
        """When the demo's run that closes `period` observes snapshot sources."""
        return self.spec.observation_time(period.end)


Judge = Callable[[WorldView, Period], "list[str] | None"]


@dataclass(frozen=True)
class Oracle:
    frequency: Frequency
    judge: Judge


def all_oracles() -> dict[str, Oracle]:
    import ccm_demo.oracles as package

    oracles: dict[str, Oracle] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for control_id, oracle in getattr(module, "ORACLES", {}).items():
            if control_id in oracles:
                raise ValueError(f"two oracles for {control_id}")
            oracles[control_id] = oracle
    return oracles
