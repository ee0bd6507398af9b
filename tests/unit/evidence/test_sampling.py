"""Reproducible samples: the same seed and frame give the same sample, by a documented rule."""

from __future__ import annotations

import hashlib
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ccm.constants import Frequency, Status
from ccm.errors import EvidenceError
from ccm.evidence.index import EvidenceIndex
from ccm.evidence.ledger import Ledger
from ccm.evidence.record import PopulationArtifact
from ccm.evidence.sampling import default_size, draw_sample
from ccm.evidence.store import EvidenceStore
from ccm.periods import Period, as_utc
from tests.unit.evidence.synthetic import PR_REVIEW, synthetic_record


def _store_with_populations(tmp_path, entities_per_day: int, days: int) -> EvidenceStore:
    """Synthetic evaluations of a control that is not the Okta one, one population per day."""
    store = EvidenceStore(str(tmp_path / "evidence"))
    ledger = Ledger(store)
    for day in range(1, days + 1):
        start, end = f"2025-11-{day:02d}T00:00:00+00:00", f"2025-11-{day + 1:02d}T00:00:00+00:00"
        table = pa.table({"entity_id": [f"repo-{day}-{n}" for n in range(entities_per_day)],
                          "approvals": [n % 3 for n in range(entities_per_day)]})
        sink = io.BytesIO()
        pq.write_table(table, sink)
        population = f"populations/chg_pr_review/2025-11-{day:02d}/{day}.parquet"
        record = synthetic_record(f"{day:032d}", PR_REVIEW, Period(as_utc(start), as_utc(end)), Status.PASS,
                                  PopulationArtifact(population, store.put(population, sink.getvalue()),
                                                     entities_per_day))
        key = f"evaluations/chg_pr_review/2025-11-{day:02d}/v001-{day:032d}.json"
        ledger.append("evaluation", {"evaluation_id": f"{day:032d}", "control_id": "chg_pr_review",
                                     "period_start": start, "period_end": end, "version": 1, "status": "pass",
                                     "record": key, "record_sha256": store.put(key, record.to_json_bytes())}, end)
    return store


def test_same_seed_same_sample_and_the_rule_is_sha256_rank(tmp_path):
    index = EvidenceIndex.load(_store_with_populations(tmp_path, entities_per_day=30, days=5))
    start, end = as_utc("2025-11-01"), as_utc("2025-11-06")
    first = draw_sample(index, "chg_pr_review", Frequency.DAILY, start, end, seed=42)
    again = draw_sample(EvidenceIndex.load(index.store), "chg_pr_review", Frequency.DAILY, start, end, seed=42)
    other = draw_sample(index, "chg_pr_review", Frequency.DAILY, start, end, seed=43)
    assert first.items == again.items and first.frame_sha256 == again.frame_sha256
    assert {i["entity_id"] for i in first.items} != {i["entity_id"] for i in other.items}
    # 150 tested items (many per period): the transaction table gives 25
    assert (first.frame_size, first.size) == (150, 25)
    # anyone can redraw by hand: rank = SHA-256("seed:period_start:entity_id"), smallest first
    frame = [(f"2025-11-{d:02d}T00:00:00+00:00", f"repo-{d}-{n}") for d in range(1, 6) for n in range(30)]
    by_hand = sorted(frame, key=lambda i: hashlib.sha256(f"42:{i[0]}:{i[1]}".encode()).hexdigest())[:25]
    assert [(i["period_start"], i["entity_id"]) for i in first.items] == by_hand
    assert first.frame_sha256 == hashlib.sha256("\n".join(sorted(f"{p}\t{e}" for p, e in frame)).encode()).hexdigest()


def test_the_window_bounds_the_frame_and_size_can_be_chosen(tmp_path):
    index = EvidenceIndex.load(_store_with_populations(tmp_path, entities_per_day=3, days=5))
    sample = draw_sample(index, "chg_pr_review", Frequency.DAILY, as_utc("2025-11-02"), as_utc("2025-11-04"),
                         seed=1, size=4)
    assert sample.frame_size == 6 and sample.size == 4
    assert {i["period_start"][:10] for i in sample.items} <= {"2025-11-02", "2025-11-03"}
    assert [p["period_start"][:10] for p in sample.populations] == ["2025-11-02", "2025-11-03"]
    with pytest.raises(EvidenceError, match="nothing to sample"):
        draw_sample(index, "iam_okta_mfa", Frequency.DAILY, as_utc("2025-11-01"), as_utc("2025-11-06"), seed=1)


def test_a_tampered_population_is_refused(tmp_path):
    store = _store_with_populations(tmp_path, entities_per_day=3, days=1)
    path = store.local_path("populations/chg_pr_review/2025-11-01/1.parquet")
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(EvidenceError, match="does not match its record"):
        draw_sample(EvidenceIndex.load(store), "chg_pr_review", Frequency.DAILY, as_utc("2025-11-01"),
                    as_utc("2025-11-02"), seed=1)


@pytest.mark.parametrize(("frequency", "frame", "periods", "expected"), [
    (Frequency.ANNUAL, 1, 1, 1), (Frequency.QUARTERLY, 2, 2, 2), (Frequency.MONTHLY, 6, 6, 2),
    (Frequency.WEEKLY, 26, 26, 5), (Frequency.DAILY, 182, 182, 25), (Frequency.DAILY, 10, 10, 10),
    (Frequency.DAILY, 200, 5, 25), (Frequency.DAILY, 900, 5, 40), (Frequency.MONTHLY, 5000, 6, 60),
])
def test_default_sizes(frequency, frame, periods, expected):
    assert default_size(frequency, frame, periods)[0] == expected
