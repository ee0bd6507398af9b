"""AWS fixtures: one moto stand-in for this test package, on the session's small demo company.

moto keeps its state per process and the stand-in resets it when it starts (filling moto
costs seconds), so the package shares one; tests move its simulated clock with `at_day`
(which also reconciles moto to the world, so each test sees the world at the day it asks
for) and reach it through `aws_connection`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ccm import clock
from ccm.sources.connections import Connection, from_env
from ccm_demo.spec import DemoSpec
from ccm_demo.standins.aws import AwsStandin


@pytest.fixture(scope="package")
def aws_clock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("aws-clock") / "clock"


@pytest.fixture(scope="package")
def aws_standin(demo_dir: Path, aws_clock: Path) -> Iterator[AwsStandin]:
    server = AwsStandin(demo_dir, aws_clock).start()
    yield server
    server.stop()


@pytest.fixture
def at_day(aws_standin: AwsStandin, aws_clock: Path, settings, small_spec: DemoSpec,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], datetime]]:
    """at_day(n): the simulated clock at the demo's run closing day n of the window (0-based),
    with moto reconciled to the world at that moment; the pipeline reads the same clock."""
    monkeypatch.setenv("CCM_CLOCK_FILE", str(aws_clock))

    def move(day: int) -> datetime:
        moment = small_spec.observation_time(small_spec.window_start + timedelta(days=day + 1))
        clock.write_clock_file(aws_clock, moment)
        aws_standin.advance(moment)
        return moment

    yield move
    aws_standin.clear_faults()


@pytest.fixture
def aws_connection(aws_standin: AwsStandin) -> Connection:
    return from_env("aws_default", aws_standin.connection_env())


def window_day(spec: DemoSpec, day: int) -> datetime:
    return spec.window_start + timedelta(days=day)
