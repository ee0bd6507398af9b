"""Start and stop every stand-in of a generated demo, and describe how to reach them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ccm_demo.spec import CLOCK_FILE
from ccm_demo.standins import standin_modules


@dataclass
class Standins:
    demo_dir: Path
    servers: dict[str, Any] = field(default_factory=dict)

    def start(self, ports: dict[str, int] | None = None) -> Standins:
        ports = ports or {}
        clock_file = self.demo_dir / CLOCK_FILE
        try:
            for module in standin_modules():
                if not hasattr(module, "start"):
                    continue
                name = module.__name__.rsplit(".", 1)[-1]
                server = module.start(self.demo_dir, clock_file, port=ports.get(name, 0))
                self.servers[server.name] = server
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()

    def __enter__(self) -> Standins:
        return self if self.servers else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def connection_env(self) -> dict[str, str]:
        """AIRFLOW_CONN_* variables the DAG (through Airflow) and the CLI both read."""
        env: dict[str, str] = {}
        for server in self.servers.values():
            env |= server.connection_env()
        return env


ALWAYS_ADVANCED = {"inbox"}  # export files serve several source families


def advance_all(demo_dir: Path, moment: datetime, env: dict[str, str], sources: set[str] | None = None) -> None:
    """Let the stand-ins catch up with the simulated clock (seeding, deliveries): every one,
    or only those serving `sources` (a stand-in module is named after its source)."""
    for module in standin_modules():
        name = module.__name__.rsplit(".", 1)[-1]
        if sources is not None and name not in sources and name not in ALWAYS_ADVANCED:
            continue
        hook = getattr(module, "advance_to", None)
        if hook is not None:
            hook(Path(demo_dir), moment, env)
