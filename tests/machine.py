"""What this machine offers the tests: a PostgreSQL server and a Chromium browser.

`make test` finds them by itself: CCM_TEST_POSTGRES_URL if set, else the local server at
127.0.0.1:5432 (user postgres, trust auth, as on the development and CI machines); Chromium
on the PATH. A test that needs one skips, saying why, only where the machine lacks it, and
fails instead in CI (`CI` set, as `.ci/run` does), where both must be there.
"""

from __future__ import annotations

import functools
import os
import shutil

import pytest

POSTGRES_ENV = "CCM_TEST_POSTGRES_URL"
LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                 "--disable-component-update", "--disable-sync"]


def in_ci() -> bool:
    return bool(os.environ.get("CI")) or bool(os.environ.get("CCM_REQUIRE_POSTGRES"))


def _missing(what: str) -> None:
    if in_ci():
        pytest.fail(f"{what}: CI must run every test (.ci/run installs and starts what they need)")
    pytest.skip(what)


@functools.cache
def _reachable_postgres() -> tuple[str | None, str]:
    url = os.environ.get(POSTGRES_ENV) or LOCAL_POSTGRES_URL
    import psycopg2

    try:
        psycopg2.connect(url, connect_timeout=3).close()
    except psycopg2.Error as exc:
        return None, f"no PostgreSQL at {url} ({str(exc).strip().splitlines()[0]}); set {POSTGRES_ENV}"
    return url, ""


def postgres_url() -> str:
    """The PostgreSQL server URL (admin database), or skip/fail saying why there is none."""
    url, why = _reachable_postgres()
    if url is None:
        _missing(why)
    return url


def chromium_executable() -> str:
    """The Chromium binary, or skip/fail saying why there is none."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    _missing(f"no Chromium on the PATH (looked for {', '.join(CHROMIUM_NAMES)}; apt-get install chromium)")
    raise AssertionError("unreachable")
