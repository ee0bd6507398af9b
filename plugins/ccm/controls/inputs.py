"""Are a control's inputs complete for a period? Which observation is its evidence?

Event datasets must have been extracted completely over the whole period (the union of
complete extract intervals covers it). Snapshot datasets must have a complete
observation made after the period closed and within the control's freshness for that
dataset; the latest such observation is the evidence. Anything else makes the
control-period `not_tested`, with a reason that names the dataset and what was missing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ccm.constants import DatasetKind, ExtractStatus
from ccm.controls.catalog import Control, SourceRequirement
from ccm.manifests import ExtractManifest, attempt_order
from ccm.periods import Period
from ccm.sources.registry import get_dataset

# a snapshot is normally observed by the run of the interval that just closed; the
# planner does not read observations made by runs of intervals older than this
SNAPSHOT_RUN_MARGIN = timedelta(days=7)


@dataclass(frozen=True)
class DatasetAssessment:
    dataset: str
    complete: bool
    reason: str = ""
    observed_at: datetime | None = None  # the observation used (snapshots)
    manifests: tuple[str, ...] = ()  # extract manifests the decision rests on
    files: tuple[tuple[str, str], ...] = ()  # (lake path, sha256) of the data used


@dataclass(frozen=True)
class InputAssessment:
    control_id: str
    period: Period
    datasets: tuple[DatasetAssessment, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        return all(d.complete for d in self.datasets)

    @property
    def reason(self) -> str:
        return "; ".join(d.reason for d in self.datasets if not d.complete)

    @property
    def fingerprint(self) -> str:
        """Changes whenever the data a period would be tested on changes (late data)."""
        doc = [(d.dataset, d.complete, d.observed_at.isoformat() if d.observed_at else None, d.files)
               for d in self.datasets]
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


class ManifestIndex:
    """Manifests grouped by dataset, for answering coverage questions quickly."""

    def __init__(self, manifests: list[ExtractManifest]) -> None:
        self.by_dataset: dict[str, list[ExtractManifest]] = {}
        self.file_hashes: dict[str, str] = {}  # lake path -> SHA-256, from the manifests that wrote them
        for manifest in sorted(manifests, key=attempt_order):
            self.by_dataset.setdefault(manifest.dataset_key, []).append(manifest)
            self.file_hashes.update({f.path: f.sha256 for f in manifest.files_written})

    def of(self, dataset: str) -> list[ExtractManifest]:
        return self.by_dataset.get(dataset, [])


def assess(control: Control, period: Period, index: ManifestIndex,
           current_files: dict[str, list[tuple[str, str]]] | None = None) -> InputAssessment:
    """current_files: per dataset, the lake files (path, sha256) currently holding the period's events."""
    results = []
    for requirement in control.sources:
        kind = get_dataset(requirement.dataset).kind
        if kind is DatasetKind.SNAPSHOT:
            results.append(_assess_snapshot(requirement, period, index.of(requirement.dataset)))
        else:
            files = (current_files or {}).get(requirement.dataset, [])
            results.append(_assess_events(requirement, period, index.of(requirement.dataset), files))
    return InputAssessment(control.control_id, period, tuple(results))


def _assess_snapshot(requirement: SourceRequirement, period: Period,
                     manifests: list[ExtractManifest]) -> DatasetAssessment:
    deadline = period.end + requirement.freshness
    in_window = [m for m in manifests if m.observed_at and period.end <= m.observed_at <= deadline]
    complete = [m for m in in_window if m.status is ExtractStatus.COMPLETE]
    if complete:
        chosen = max(complete, key=lambda m: (m.observed_at, *attempt_order(m)))
        return DatasetAssessment(
            requirement.dataset, True, observed_at=chosen.observed_at, manifests=(chosen.relative_path,),
            files=tuple((f.path, f.sha256) for f in chosen.files_written),
        )
    if in_window:
        latest = in_window[-1]
        detail = latest.error or "; ".join(latest.notes) or f"{latest.quarantined} records quarantined"
        reason = (f"{requirement.dataset}: the observation after the period closed was {latest.status.value} "
                  f"({detail})")
        return DatasetAssessment(requirement.dataset, False, reason,
                                 manifests=tuple(m.relative_path for m in in_window))
    observed = [m.observed_at for m in manifests if m.observed_at and m.status is ExtractStatus.COMPLETE]
    before = [t for t in observed if t < period.end]
    hint = f"; latest earlier observation {max(before).isoformat()}" if before else f"; none in the {SNAPSHOT_RUN_MARGIN.days} days before"
    reason = (f"{requirement.dataset}: not observed between {period.end.isoformat()} and {deadline.isoformat()}"
              f"{hint}")
    return DatasetAssessment(requirement.dataset, False, reason)


def _assess_events(requirement: SourceRequirement, period: Period, manifests: list[ExtractManifest],
                   files: list[tuple[str, str]]) -> DatasetAssessment:
    complete = sorted(
        ((m.interval_start, m.interval_end, m) for m in manifests if m.status is ExtractStatus.COMPLETE),
        key=lambda item: item[0],
    )
    cursor = period.start
    used: list[str] = []
    for start, end, manifest in complete:
        if start <= cursor < end:
            cursor = end
            used.append(manifest.relative_path)
        if cursor >= period.end:
            break
    if cursor >= period.end:
        return DatasetAssessment(requirement.dataset, True, manifests=tuple(used), files=tuple(files))
    failures = [m for m in manifests if m.status is not ExtractStatus.COMPLETE
                and m.interval_start < period.end and m.interval_end > cursor]
    detail = ""
    if failures:
        last = failures[-1]
        detail = f" (last attempt {last.status.value}: {last.error or '; '.join(last.notes) or f'{last.quarantined} quarantined'})"
    reason = f"{requirement.dataset}: no complete extract covers {cursor.isoformat()} .. {period.end.isoformat()}{detail}"
    return DatasetAssessment(requirement.dataset, False, reason, manifests=tuple(used))
