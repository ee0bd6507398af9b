"""Start and stop every stand-in for a generated demo, and describe how to reach them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ccm.demo.spec import CLOCK_FILE
from ccm.demo.standins.base import StandinServer
from ccm.demo.standins.okta import OktaStandin

DEMO_TOKENS = {"okta": "demo-okta-token-00000000"}


@dataclass
class Standins:
    demo_dir: Path
    servers: dict[str, StandinServer] = field(default_factory=dict)

    def start(self, ports: dict[str, int] | None = None) -> Standins:
        ports = ports or {}
        clock_file = self.demo_dir / CLOCK_FILE
        self.servers["okta"] = OktaStandin(self.demo_dir, clock_file, token=DEMO_TOKENS["okta"],
                                           port=ports.get("okta", 0)).start()
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()

    def __enter__(self) -> Standins:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def connection_env(self) -> dict[str, str]:
        """AIRFLOW_CONN_* variables the DAG (through Airflow) and the CLI both read."""
        return {
            "AIRFLOW_CONN_OKTA_DEFAULT": json.dumps(
                {"conn_type": "http", "host": self.servers["okta"].url, "password": DEMO_TOKENS["okta"]}
            ),
        }
