"""`ccm demo generate`: build the seeded company deterministically into a directory.

Same spec, same bytes: every random choice comes from a per-topic stream seeded from the
spec, files are written with sorted keys, and nothing reads the wall clock. The roster
comes first, then every world module in ORDER, then the planted exceptions and outages,
then the answer key.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from ccm_demo import answer_key
from ccm_demo.key_rules import read_key_exceptions
from ccm_demo.oracles import WorldView
from ccm_demo.spec import EXCEPTIONS_FILE, SPEC_FILE, DemoSpec
from ccm_demo.world import WorldContext, people, world_modules
from ccm_demo.world.common import write_json
from ccm_demo.world.seeds import Seeds

OUTAGES_FILE = "world/outages.json"
DELIVERIES_FILE = "world/exports/_deliveries.json"


def generate(spec: DemoSpec, demo_dir: Path) -> Path:
    demo_dir = Path(demo_dir)
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True)
    (demo_dir / SPEC_FILE).write_text(spec.to_json() + "\n")
    roster = people.generate_people(spec)
    people.write_people(demo_dir, roster)
    ctx = WorldContext(spec=spec, demo_dir=demo_dir, people=roster, seeds=Seeds())
    for module in world_modules():
        module.generate(ctx)
    write_json(demo_dir / OUTAGES_FILE, ctx.seeds.outages)
    write_json(demo_dir / DELIVERIES_FILE, sorted(ctx.deliveries, key=lambda d: (d["deliver_at"], d["path"])))
    (demo_dir / EXCEPTIONS_FILE).write_text(
        "# Approved exceptions of the demo company (generated; see include/exceptions.yml for the format)\n"
        + yaml.safe_dump({"exceptions": ctx.seeds.exceptions}, sort_keys=False)
    )
    write_key(spec, demo_dir)
    return demo_dir


def load_view(spec: DemoSpec, demo_dir: Path) -> WorldView:
    return WorldView(spec=spec, demo_dir=Path(demo_dir),
                     exceptions=read_key_exceptions(Path(demo_dir) / EXCEPTIONS_FILE))


def write_key(spec: DemoSpec, demo_dir: Path) -> Path:
    return answer_key.write_answer_key(demo_dir, answer_key.expected_results(load_view(spec, demo_dir)))
