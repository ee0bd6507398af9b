"""Human-readable summaries of GX suites, for `ccm controls list` and the docs."""

from __future__ import annotations

import json

from ccm.config import Settings

_TEMPLATES = {
    "expect_column_values_to_be_between": lambda k: (
        f"{k['column']} " + " and ".join(
            part for part in (
                f">= {k['min_value']}" if k.get("min_value") is not None else "",
                f"<= {k['max_value']}" if k.get("max_value") is not None else "",
            ) if part)),
    "expect_column_values_to_not_be_null": lambda k: f"{k['column']} is present",
    "expect_column_values_to_be_in_set": lambda k: f"{k['column']} in {k['value_set']}",
    "expect_column_values_to_not_be_in_set": lambda k: f"{k['column']} not in {k['value_set']}",
    "expect_column_values_to_be_null": lambda k: f"{k['column']} is empty",
    "expect_table_row_count_to_be_between": lambda k: f"rows >= {k.get('min_value')}",
}


def describe_suite(settings: Settings, suite: str) -> str:
    path = settings.gx_dir / "suites" / f"{suite}.json"
    if not path.exists():
        return f"(suite {suite} missing)"
    doc = json.loads(path.read_text())
    lines = []
    for expectation in doc.get("expectations", []):
        kwargs = expectation.get("kwargs", {})
        if expectation["type"] == "expect_column_values_to_not_be_null" and kwargs.get("column") == "entity_id":
            continue
        render = _TEMPLATES.get(expectation["type"])
        lines.append(render(kwargs) if render else f"{expectation['type']}({kwargs})")
    return "\n".join(lines)
