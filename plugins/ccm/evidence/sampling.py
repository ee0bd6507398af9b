"""Reproducible auditor samples from a window's populations.

The sampling frame of a control over a window is every row of the *current* version of
each of its periods' populations: one item per (period_start, entity_id). It is read from
the population files in the evidence store, whose SHA-256 the records hold, and is
summarised by a frame hash (SHA-256 over the sorted `period_start<TAB>entity_id` lines),
so anyone can confirm they are drawing from the same frame.

The draw does not depend on a programming language's random generator: each item gets
the rank `SHA-256("<seed>:<period_start>:<entity_id>")` and the sample is the `size`
items with the smallest ranks (ties cannot happen in practice). An auditor can redraw it
with `ccm evidence sample`, or by hand with any SHA-256 tool and a sort.

Default sizes when `--size` is not given (see docs/auditor-guide.md for the source):

| frame                                   | size            |
|-----------------------------------------|-----------------|
| one item per period (a periodic control) | by frequency: annual 1, quarterly 2, monthly 2, weekly 5, daily 25 |
| many items per period (transactions)     | by frame size: up to 250 items 25, up to 1,000 items 40, more 60 |

never more than the frame itself.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from ccm.constants import Frequency
from ccm.errors import EvidenceError
from ccm.evidence.index import EvidenceIndex
from ccm.evidence.store import sha256_bytes

FREQUENCY_SIZES = {Frequency.ANNUAL: 1, Frequency.QUARTERLY: 2, Frequency.MONTHLY: 2, Frequency.WEEKLY: 5,
                   Frequency.DAILY: 25}
TRANSACTION_SIZES = ((250, 25), (1000, 40), (None, 60))
ALGORITHM = "sha256-rank: the items with the smallest SHA-256(\"<seed>:<period_start>:<entity_id>\")"


def default_size(frequency: Frequency, frame_size: int, periods: int) -> tuple[int, str]:
    """(size, basis) per the table in the module doc."""
    if frame_size <= periods:
        size, basis = FREQUENCY_SIZES[frequency], f"{frequency.value} control: {FREQUENCY_SIZES[frequency]}"
    else:
        size = next(n for limit, n in TRANSACTION_SIZES if limit is None or frame_size <= limit)
        basis = f"population of {frame_size} items: {size}"
    return min(size, frame_size), basis


def _rank(seed: int, period_start: str, entity_id: str) -> str:
    return hashlib.sha256(f"{seed}:{period_start}:{entity_id}".encode()).hexdigest()


@dataclass(frozen=True)
class Sample:
    control_id: str
    window_start: str
    window_end: str
    seed: int
    size: int
    size_basis: str
    frame_size: int
    frame_sha256: str
    algorithm: str
    populations: list[dict[str, Any]]  # the files the frame was read from, with SHA-256 and version
    items: list[dict[str, Any]]  # the sampled rows, in rank order

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_csv(self) -> str:
        import csv

        buffer = io.StringIO()
        columns = sorted({k for item in self.items for k in item} - {"rank"})
        columns = ["rank", "period_start", "entity_id", *[c for c in columns if c not in ("period_start", "entity_id")]]
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(self.items)
        return buffer.getvalue()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


def draw_sample(index: EvidenceIndex, control_id: str, frequency: Frequency, window_start: datetime,
                window_end: datetime, seed: int, size: int | None = None) -> Sample:
    """Draw (or redraw) the sample of one control over [window_start, window_end)."""
    import pyarrow.parquet as pq

    frame: list[dict[str, Any]] = []
    populations = []
    groups = {k: v for k, v in index.current(window_start, window_end).items() if k[0] == control_id}
    for (_cid, period_start), versions in groups.items():
        current = versions[-1]
        record = index.record(current)
        population = record.population
        if not population:
            continue
        data = index.store.get(population.path)
        if sha256_bytes(data) != population.sha256:
            raise EvidenceError(f"{population.path} does not match its record: run `ccm evidence verify`")
        populations.append({"path": population.path, "sha256": population.sha256, "rows": population.rows,
                            "period_start": period_start.isoformat(), "version": current.version})
        for row in pq.read_table(io.BytesIO(data)).to_pylist():
            item = {k: _jsonable(v) for k, v in row.items()}
            item["period_start"] = period_start.isoformat()
            item["entity_id"] = str(row["entity_id"])
            frame.append(item)
    if not frame:
        raise EvidenceError(f"{control_id}: no tested population in the window; nothing to sample")
    lines = sorted(f"{item['period_start']}\t{item['entity_id']}" for item in frame)
    frame_hash = sha256_bytes("\n".join(lines).encode())
    basis = "chosen by the auditor"
    if size is None:
        size, basis = default_size(frequency, len(frame), len(groups))
    size = min(size, len(frame))
    ranked = sorted(frame, key=lambda item: _rank(seed, item["period_start"], item["entity_id"]))[:size]
    items = [{"rank": _rank(seed, i["period_start"], i["entity_id"]), **i} for i in ranked]
    return Sample(control_id, window_start.isoformat(), window_end.isoformat(), seed, size, basis, len(frame),
                  frame_hash, ALGORITHM, populations, items)
