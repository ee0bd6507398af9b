"""Fixtures for the identity tests: the Google stand-in and connection, inbox deliveries."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from ccm.config import Settings


@pytest.fixture
def google_standin(demo_dir: Path, settings: Settings):
    from ccm_demo.standins.google import GoogleStandin

    server = GoogleStandin(demo_dir, Path(os.environ["CCM_CLOCK_FILE"]), token="test-google-token").start()
    yield server
    server.stop()


@pytest.fixture
def google_connection(google_standin):
    from ccm.sources.connections import Connection
    from ccm.sources.http_client import Secret

    return Connection("google_default", host=google_standin.url, password=Secret("test-google-token"))


@pytest.fixture
def deliver(demo_dir: Path, settings: Settings):
    """Make the inbox hold exactly the exports delivered by `moment` (simulated time)."""
    from ccm_demo.standins import inbox

    def at(moment: datetime) -> None:
        inbox.advance_to(demo_dir, moment, {"CCM_INBOX_URI": settings.inbox_uri})

    return at
