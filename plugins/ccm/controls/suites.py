"""GX suite files, read without Great Expectations (the runner and `ccm controls check` share it).

A suite file needs no hand-made ids. GX 1.x does need a suite id and expectation ids at
run time (a validation definition refuses a suite without one, and `context.suites.add`
replaces whatever ids a suite has with random ones), so ids a file leaves out are
generated here, deterministically from the suite's name and the expectation's content:
the same file gets the same ids on every run, and the ids a file does have (every shipped
suite has them) are kept as they are, so shipped suites load exactly as before.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from ccm.errors import ConfigError

# uuid5 namespace of generated suite ids: uuid5(NAMESPACE_URL, "https://ccm/gx-suite")
_SUITE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://ccm/gx-suite")


def suite_path(suites_dir: Path, suite: str) -> Path:
    """Where a catalog's suite reference points: `<suites_dir>/<suite>.json`, or, for a company
    control (whose suite reference is an absolute path without `.json`), the company's file."""
    return Path(suites_dir) / f"{suite}.json"


def read_suite(path: Path) -> dict[str, Any]:
    """The suite document at `path`, with `name` (the file's stem) and any missing ids filled in."""
    where = str(path)
    try:
        document = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{where}: file not found") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("expectations"), list):
        raise ConfigError(f"{where}: expected an object with an 'expectations' list")
    name = Path(path).stem
    if document.setdefault("name", name) != name:
        raise ConfigError(f"{where}: field 'name' is {document['name']!r}; it must be the file's name, {name!r}")
    suite_id = document.get("id") or str(uuid.uuid5(_SUITE_NAMESPACE, name))
    document["id"] = suite_id
    for index, expectation in enumerate(document["expectations"], start=1):
        if not isinstance(expectation, dict) or not isinstance(expectation.get("type"), str):
            raise ConfigError(f"{where}: expectation #{index}: expected an object with a 'type'")
        if not isinstance(expectation.setdefault("kwargs", {}), dict):
            raise ConfigError(f"{where}: expectation #{index}: field 'kwargs' must be an object")
        if not expectation.get("id"):
            content = json.dumps([expectation["type"], expectation["kwargs"]], sort_keys=True, default=str)
            expectation["id"] = str(uuid.uuid5(uuid.UUID(suite_id), f"{index}:{content}"))
    return document
