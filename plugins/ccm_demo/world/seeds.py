"""What the generator planted on purpose: approved exceptions and source outages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ccm_demo.world.common import iso


@dataclass
class Seeds:
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    outages: list[dict[str, str]] = field(default_factory=list)  # {source, start, end, reason}

    def add_exception(self, control_id: str, entity_id: str, reason: str, approved_on: datetime,
                      expires_on: datetime, approver: str = "Head of Security") -> dict[str, Any]:
        """An approved exception in force from approved_on's day through expires_on's day."""
        number = len(self.exceptions) + 1
        entry = {
            "exception_id": f"EXC-{number:04d}", "control_id": control_id, "entity_id": entity_id,
            "reason": reason, "approved_by": approver, "approved_on": approved_on.date().isoformat(),
            "ticket": f"SEC-{4100 + number}", "expires_on": expires_on.date().isoformat(),
        }
        self.exceptions.append(entry)
        return entry

    def add_outage(self, source: str, start: datetime, end: datetime, reason: str) -> None:
        """The source's API answers 503 between start and end (simulated time)."""
        self.outages.append({"source": source, "start": iso(start, millis=False), "end": iso(end, millis=False),
                             "reason": reason})
