"""The inbox export contracts as a file producer needs them: where each goes, and templates.

Whoever connects an HRIS or LMS has to know the file name, format and columns its export
must have. All of that is declared once in the dataset definitions; this module renders it
(`ccm inbox template`), and `ccm.controls.describe.datasets_markdown` uses it for
docs/datasets.md, so neither can drift from what the extract enforces.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from ccm.datasets import ColumnType, Dataset
from ccm.errors import ConfigError
from ccm.sources.exports.datasets import FORMATS

# what a template's example row holds per type: it documents the format and, if the
# template is delivered unchanged, fails to parse instead of loading as data
PLACEHOLDER: dict[ColumnType, Any] = {
    ColumnType.STRING: "<text>",
    ColumnType.INT: "<integer>",
    ColumnType.FLOAT: "<number>",
    ColumnType.BOOL: "<true|false>",
    ColumnType.TIMESTAMP: "<YYYY-MM-DDTHH:MM:SSZ>",
    ColumnType.DATE: "<YYYY-MM-DD>",
    ColumnType.STRING_LIST: ["<text>"],
    ColumnType.JSON: {"<any>": "<JSON value>"},
}


def export_format(dataset: Dataset) -> str | None:
    """csv or json for an inbox export dataset, None for an API dataset."""
    return FORMATS.get(dataset.source, {}).get(dataset.name)


def export_path(dataset: Dataset) -> str:
    fmt = export_format(dataset)
    if fmt is None:
        raise ConfigError(f"{dataset.key} is read from an API, not from an inbox export")
    return f"{dataset.source}/{dataset.name}/{dataset.name}_YYYY-MM-DD.{fmt}"


def inbox_template(dataset: Dataset) -> str:
    """A ready export file for `dataset`: the CSV header (or JSON object shape) with one
    example record of placeholders showing each field's format. Delivered unchanged, the
    placeholders fail to parse, so a template can never pass for a real export."""
    fmt = export_format(dataset)
    if fmt is None:
        raise ConfigError(f"{dataset.key} is read from an API, not from an inbox export: no template")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([c.path for c in dataset.columns])
        writer.writerow([PLACEHOLDER[c.type] if c.type not in (ColumnType.STRING_LIST, ColumnType.JSON)
                         else "" for c in dataset.columns])
        return out.getvalue()
    record: dict[str, Any] = {}
    for column in dataset.columns:
        *parents, leaf = column.path.split(".")
        target = record
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = PLACEHOLDER[column.type]
    return json.dumps([record], indent=2) + "\n"
