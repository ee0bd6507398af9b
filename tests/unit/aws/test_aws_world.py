"""The AWS world: deterministic, compliant at baseline, violations only where planted."""

from __future__ import annotations

import json
from datetime import timedelta

from ccm.periods import periods_closing_in
from ccm_demo.answer_key import read_answer_key
from ccm_demo.oracles import aws as aws_oracles
from ccm_demo.simulator import load_view
from ccm_demo.spec import DemoSpec
from ccm_demo.world import aws
from ccm_demo.world.common import parse
from ccm_demo.world.people import generate_people
from ccm_demo.world.seeds import Seeds

AWS_CONTROLS = sorted(aws_oracles.ORACLES)


def test_the_same_spec_gives_the_same_world():
    spec = DemoSpec(seed=11, employees=60, days=31)
    people = generate_people(spec)
    first = json.dumps(aws.generate_world(spec, people, Seeds()), sort_keys=True)
    second = json.dumps(aws.generate_world(spec, people, Seeds()), sort_keys=True)
    assert first == second
    other = json.dumps(aws.generate_world(DemoSpec(seed=12, employees=60, days=31), people, Seeds()), sort_keys=True)
    assert other != first


def test_every_control_has_three_exceptions_one_expiring_while_still_failing(demo_dir):
    doc = json.loads((demo_dir / aws.WORLD_FILE).read_text())
    for control_id in AWS_CONTROLS:
        episodes = [e for e in doc["episodes"] if e["control_id"] == control_id]
        assert len(episodes) == 4, control_id
        assert sum(e["exception"] != "none" for e in episodes) == 3, control_id
        assert any(e["exception"] == "expiring" for e in episodes), control_id
        assert episodes[0]["start"][:10] == "2025-10-02" and episodes[0]["exception"] == "none"


def test_failures_come_only_from_planted_episodes(demo_dir, small_spec):
    """Judged by the oracles: every failing entity of every period is inside an episode
    planted for that control at the observation moment (the baseline is compliant)."""
    view = load_view(small_spec, demo_dir)
    episodes = json.loads((demo_dir / aws.WORLD_FILE).read_text())["episodes"]
    failing_somewhere = set()
    for control_id, oracle in aws_oracles.ORACLES.items():
        for period in periods_closing_in(small_spec.window_start, small_spec.window_end, oracle.frequency):
            failing = oracle.judge(view, period)
            observed = view.observed(period)
            for entity in failing or []:
                planted = [e for e in episodes if e["control_id"] == control_id and e["entity_id"] == entity
                           and _episode_on(e, period, observed)]
                assert planted, f"{control_id} {period.label}: {entity} fails without a planted episode"
                failing_somewhere.add(control_id)
    assert failing_somewhere == set(AWS_CONTROLS)


def _episode_on(episode: dict, period, observed) -> bool:
    """Snapshot controls fail while the episode is on when the run observes AWS; the backup
    control fails for the days whose jobs the episode removed."""
    start, end = parse(episode["start"]), parse(episode["end"])
    if episode["control_id"] == "avl_backup_daily":
        return start.replace(hour=0, minute=0, second=0) <= period.start <= end
    return start <= observed < end


def test_the_answer_key_has_pass_fail_excepted_and_not_tested_days(demo_dir, small_spec):
    key = read_answer_key(demo_dir)
    outage_days = [(start - timedelta(days=1)).strftime("%Y-%m-%d") for start, _ in aws.outage_windows(small_spec)]
    assert len(outage_days) == 2
    for control_id in AWS_CONTROLS:
        statuses = {period: slot["status"] for (c, period), slot in key.items() if c == control_id}
        assert [statuses[day] for day in outage_days] == ["not_tested", "not_tested"], control_id
        assert {"pass", "fail", "excepted"} <= set(statuses.values()), (control_id, statuses)


def test_backup_jobs_follow_the_clock_and_the_planted_outcomes(demo_dir, small_spec):
    world = aws.AwsWorld.load(demo_dir)
    protected = world.doc["backup"]["protected"][0]
    day = small_spec.window_start + timedelta(days=4)
    created = day + timedelta(minutes=protected["window_minute"])
    jobs = lambda now: [j for j in world.backup_jobs(protected["account_id"], protected["region"], day,  # noqa: E731
                                                      day + timedelta(days=1), now)
                        if j["ResourceArn"] == protected["resource_arn"]]
    assert jobs(created - timedelta(minutes=1)) == []
    assert [j["State"] for j in jobs(created + timedelta(minutes=1))] == ["RUNNING"]
    finished = jobs(day + timedelta(days=1))
    assert [j["State"] for j in finished] in (["COMPLETED"], ["FAILED"], ["FAILED", "COMPLETED"], [])
    outcome = world.backup_outcome(protected["resource_arn"], day)
    expected = {"completed": ["COMPLETED"], "missing": [], "failed": ["FAILED"],
                "failed_then_completed": ["FAILED", "COMPLETED"]}[outcome]
    assert [j["State"] for j in finished] == expected
    assert all("CompletionDate" in j for j in finished)
