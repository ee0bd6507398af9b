"""The simulated company, one module per system.

The HR roster (`people`) is generated first; then every module in this package that
defines `ORDER` and `generate(ctx)` is called in ORDER, each writing its part of the
world under `<demo_dir>/world/` and recording what it planted on purpose (exceptions,
outages) in `ctx.seeds`. Modules also provide "state at time T" functions that the
stand-ins use to answer API calls and the oracles use to write the answer key.
Adding a system is adding one module.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType

from ccm_demo.spec import DemoSpec
from ccm_demo.world.people import Person
from ccm_demo.world.seeds import Seeds


@dataclass
class WorldContext:
    spec: DemoSpec
    demo_dir: Path
    people: list[Person]
    seeds: Seeds
    deliveries: list[dict[str, str]] = field(default_factory=list)

    @property
    def world_dir(self) -> Path:
        return self.demo_dir / "world"

    def add_export(self, relative: str, content: bytes, deliver_at: datetime) -> None:
        """An export file (e.g. "hr/employees/employees_2025-10-05.csv") that appears in the
        pipeline's inbox at `deliver_at` (simulated time) and not before."""
        from ccm_demo.world.common import iso

        target = self.world_dir / "exports" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        self.deliveries.append({"path": relative, "deliver_at": iso(deliver_at, millis=False)})


def world_modules() -> list[ModuleType]:
    import ccm_demo.world as package

    modules = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if hasattr(module, "ORDER") and hasattr(module, "generate"):
            modules.append(module)
    return sorted(modules, key=lambda m: (m.ORDER, m.__name__))
