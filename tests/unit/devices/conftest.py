"""Fixtures for the device source tests: the Intune, Falcon and Jamf stand-ins and connections."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ccm.config import Settings


@pytest.fixture
def intune_standin(demo_dir: Path, settings: Settings):
    from ccm_demo.standins.intune import IntuneStandin

    server = IntuneStandin(demo_dir, Path(os.environ["CCM_CLOCK_FILE"])).start()
    yield server
    server.stop()


@pytest.fixture
def crowdstrike_standin(demo_dir: Path, settings: Settings):
    from ccm_demo.standins.crowdstrike import CrowdStrikeStandin

    server = CrowdStrikeStandin(demo_dir, Path(os.environ["CCM_CLOCK_FILE"])).start()
    yield server
    server.stop()


@pytest.fixture
def jamf_standin(demo_dir: Path, settings: Settings):
    from ccm_demo.standins.jamf import JamfStandin

    server = JamfStandin(demo_dir, Path(os.environ["CCM_CLOCK_FILE"])).start()
    yield server
    server.stop()


def connection_of(server):
    """The Connection the pipeline would read from the stand-in's AIRFLOW_CONN_* variable."""
    from ccm.sources.connections import from_env

    env = server.connection_env()
    (_name, value), = env.items()
    assert json.loads(value)["password"]  # the stand-in hands out a client secret
    return from_env(server.conn_id, env)
