"""`ccm demo generate`: build the seeded company deterministically into a directory.

Same seed and size, same bytes: every random choice comes from a per-topic stream seeded
from the spec, every file is written with sorted keys, and nothing reads the wall clock.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import yaml

from ccm.controls.exceptions import load_exceptions
from ccm.demo import answer_key
from ccm.demo.spec import EXCEPTIONS_FILE, SPEC_FILE, DemoSpec
from ccm.demo.world import okta, people
from ccm.demo.world.common import iso, read_json, write_json

OUTAGES_FILE = "world/outages.json"


def _outages(spec: DemoSpec) -> list[dict[str, str]]:
    """Source APIs that are down when the demo's run for a day observes them.

    Okta is down for the run closing the window's third day (so a short demo shows a
    not_tested day) and again later in the window.
    """
    days = sorted({2, int(spec.days * 0.41)})
    outages = []
    for day in days:
        closes = spec.window_start + timedelta(days=day + 1)
        outages.append({"source": "okta", "start": iso(closes, millis=False),
                        "end": iso(closes + timedelta(hours=6), millis=False),
                        "reason": "Okta API returns 503 for six hours after the day closes"})
    return outages


def generate(spec: DemoSpec, demo_dir: Path) -> Path:
    demo_dir = Path(demo_dir)
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True)
    (demo_dir / SPEC_FILE).write_text(spec.to_json() + "\n")
    seeds = okta.Seeds()
    roster = people.generate_people(spec)
    people.write_people(demo_dir, roster)
    okta_users = okta.generate_users(spec, roster, seeds)
    okta.write_users(demo_dir, okta_users)
    seeds.outages += _outages(spec)
    write_json(demo_dir / OUTAGES_FILE, seeds.outages)
    (demo_dir / EXCEPTIONS_FILE).write_text(
        "# Approved exceptions of the demo company (generated; see include/exceptions.yml for the format)\n"
        + yaml.safe_dump({"exceptions": seeds.exceptions}, sort_keys=False)
    )
    write_key(spec, demo_dir)
    return demo_dir


def load_view(spec: DemoSpec, demo_dir: Path) -> answer_key.WorldView:
    return answer_key.WorldView(
        spec=spec, okta_users=okta.load_users(demo_dir), outages=read_json(Path(demo_dir) / OUTAGES_FILE),
        exceptions=list(load_exceptions(Path(demo_dir) / EXCEPTIONS_FILE).exceptions),
    )


def write_key(spec: DemoSpec, demo_dir: Path) -> Path:
    view = load_view(spec, demo_dir)
    return answer_key.write_answer_key(demo_dir, answer_key.expected_results(view))
