"""Which evaluations the evidence store holds, read from the ledger (the authoritative list).

Every reader (show, sample, pack) goes through the ledger rather than listing the
store, so what they present is exactly what verification covers: a record that is not
in the ledger is not evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ccm.errors import EvidenceError
from ccm.evidence.ledger import Ledger, LedgerEntry
from ccm.evidence.record import EvaluationRecord
from ccm.evidence.store import EvidenceStore
from ccm.periods import as_utc


@dataclass(frozen=True)
class Evaluation:
    """One evaluation (one version of one control-period) as the ledger names it."""

    seq: int
    evaluation_id: str
    control_id: str
    period_start: datetime
    period_end: datetime | None
    version: int
    status: str
    record_key: str
    record_sha256: str
    recorded_at: str

    @property
    def period_label(self) -> str:
        return self.period_start.strftime("%Y-%m-%d")


class EvidenceIndex:
    """The ledger's evaluations, grouped by control-period, versions in order."""

    def __init__(self, store: EvidenceStore, entries: list[LedgerEntry]) -> None:
        self.store = store
        self.entries = entries
        self.evaluations: list[Evaluation] = []
        for entry in entries:
            if entry.kind != "evaluation":
                continue
            body = entry.body
            self.evaluations.append(Evaluation(
                seq=entry.seq, evaluation_id=body["evaluation_id"], control_id=body["control_id"],
                period_start=as_utc(body["period_start"]),
                period_end=as_utc(body["period_end"]) if body.get("period_end") else None,
                version=int(body["version"]), status=body["status"], record_key=body["record"],
                record_sha256=body["record_sha256"], recorded_at=entry.recorded_at,
            ))
        self._records: dict[str, EvaluationRecord] = {}

    @classmethod
    def load(cls, store: EvidenceStore) -> EvidenceIndex:
        return cls(store, Ledger(store).entries())

    def record(self, evaluation: Evaluation) -> EvaluationRecord:
        if evaluation.record_key not in self._records:
            self._records[evaluation.record_key] = EvaluationRecord.from_json(self.store.get(evaluation.record_key))
        return self._records[evaluation.record_key]

    def period_end(self, evaluation: Evaluation) -> datetime:
        return evaluation.period_end or self.record(evaluation).period.end

    def versions(self, control_id: str, period_start: datetime) -> list[Evaluation]:
        """Every version of one control-period, oldest first."""
        start = as_utc(period_start)
        found = [e for e in self.evaluations if e.control_id == control_id and e.period_start == start]
        return sorted(found, key=lambda e: (e.version, e.seq))

    def current(self, start: datetime | None = None, end: datetime | None = None) -> dict[tuple[str, datetime],
                                                                                            list[Evaluation]]:
        """(control_id, period_start) -> versions (oldest first) for periods overlapping [start, end)."""
        grouped: dict[tuple[str, datetime], list[Evaluation]] = {}
        for evaluation in self.evaluations:
            if start is not None and self.period_end(evaluation) <= as_utc(start):
                continue
            if end is not None and evaluation.period_start >= as_utc(end):
                continue
            grouped.setdefault((evaluation.control_id, evaluation.period_start), []).append(evaluation)
        return {k: sorted(v, key=lambda e: (e.version, e.seq)) for k, v in sorted(grouped.items())}

    def find_period(self, control_id: str, moment: datetime) -> list[Evaluation]:
        """The versions of the control-period that contains `moment`."""
        moment = as_utc(moment)
        for (cid, _start), versions in self.current().items():
            if cid == control_id and versions[0].period_start <= moment < self.period_end(versions[0]):
                return versions
        raise EvidenceError(f"no evidence for {control_id} covering {moment:%Y-%m-%d}")
