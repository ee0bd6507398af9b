"""An inbox export checked against its dataset's contract before anything of it is stored.

An HRIS or LMS exports with its own column names and date formats; a configured
`ColumnMapping` (the inbox mapping file, `Settings.inbox_mapping_path`) renames its columns
onto the contract's source fields and parses its dates, so such an export loads without code:

```yaml
# inbox mapping: dataset -> how its export differs from the contract (docs/datasets.md)
hr.employees:
  columns:            # the export's column -> the contract's source field
    Employee Number: employee_id
    Work Email: work_email
  date_formats:       # the contract's source field -> strptime format (naive times are UTC)
    hire_date: "%m/%d/%Y"
    termination_datetime: "%m/%d/%Y %H:%M"
  encoding: cp1252    # default utf-8 (a byte-order mark is allowed)
```

Then every record is checked as a whole file (`check_export`): a CSV header missing a
contract column, a value that does not parse, a required value missing, two records with
the same key. The first problem raises `ExportError` naming the file, the line (CSV) or
record (JSON) and the column, and the extract stores nothing of that file: a half-right
roster would make the controls that read it test the wrong population.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccm.datasets import ColumnType, Dataset
from ccm.errors import ConfigError, ExportError, RecordError

_DATED = (ColumnType.DATE, ColumnType.TIMESTAMP)
DEFAULT_ENCODING = "utf-8-sig"


@dataclass(frozen=True)
class ColumnMapping:
    """How one dataset's export differs from its contract: column names, date formats, encoding."""

    dataset: Dataset
    columns: Mapping[str, str] = field(default_factory=dict)  # export column -> contract source field
    date_formats: Mapping[str, str] = field(default_factory=dict)  # contract source field -> strptime format
    encoding: str = DEFAULT_ENCODING

    def __post_init__(self) -> None:
        where = f"inbox mapping {self.dataset.key}"
        fields = {c.path: c for c in self.dataset.columns}
        top_level = {path.split(".", 1)[0] for path in fields}
        for theirs, ours in self.columns.items():
            if ours not in top_level:
                raise ConfigError(f"{where}: column {theirs!r} maps to {ours!r}, which is not a source field of "
                                  f"the contract (one of {', '.join(sorted(top_level))})")
        targets = list(self.columns.values())
        for ours in {t for t in targets if targets.count(t) > 1}:
            raise ConfigError(f"{where}: several export columns map to {ours!r}")
        for ours, fmt in self.date_formats.items():
            column = fields.get(ours)
            if column is None or column.type not in _DATED:
                raise ConfigError(f"{where}: date_formats names {ours!r}, which is not a date or timestamp field "
                                  f"of the contract")
            if "%" not in fmt:
                raise ConfigError(f"{where}: date format {fmt!r} for {ours!r} has no strptime directive")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ConfigError(f"{where}: unknown encoding {self.encoding!r}") from None

    @classmethod
    def identity(cls, dataset: Dataset) -> ColumnMapping:
        return cls(dataset)

    def rename(self, record: dict[str, Any]) -> dict[str, Any]:
        return {self.columns.get(k, k): v for k, v in record.items()}


def load_mappings(path: Path | None, datasets: Mapping[str, Dataset]) -> dict[str, ColumnMapping]:
    """The mapping file, validated: unknown datasets, fields or keys fail naming them."""
    import yaml

    if path is None:
        return {}
    if not path.is_file():
        raise ConfigError(f"inbox mapping {path} does not exist")
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"inbox mapping {path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"inbox mapping {path}: expected a mapping of dataset -> settings")
    out: dict[str, ColumnMapping] = {}
    for key, entry in doc.items():
        if key not in datasets:
            raise ConfigError(f"inbox mapping {path}: {key!r} is not an inbox export dataset "
                              f"(one of {', '.join(sorted(datasets))})")
        entry = entry or {}
        unknown = set(entry) - {"columns", "date_formats", "encoding"}
        if not isinstance(entry, dict) or unknown:
            raise ConfigError(f"inbox mapping {path}: {key}: unknown keys {sorted(unknown)} "
                              "(allowed: columns, date_formats, encoding)")
        try:
            out[key] = ColumnMapping(datasets[key], {str(k): str(v) for k, v in (entry.get("columns") or {}).items()},
                                     {str(k): str(v) for k, v in (entry.get("date_formats") or {}).items()},
                                     str(entry.get("encoding") or DEFAULT_ENCODING))
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    return out


def decode(source: str, path: str, data: bytes, encoding: str) -> str:
    """The export's text, or ExportError naming the line of the first byte that does not decode."""
    if not data.strip():
        raise ExportError(source, path, "the file is empty (0 records, no header): re-deliver the export")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ExportError(source, path, f"byte {data[exc.start]:#04x} at offset {exc.start} is not {encoding} "
                                        "(set `encoding` for this dataset in the inbox mapping)", line=line) from None


def check_header(source: str, path: str, header: list[str], mapping: ColumnMapping) -> None:
    """Every contract column must be in a CSV export's header: a missing optional column
    would read as 'no value for anyone' (nobody terminated, nobody trained)."""
    present = {mapping.columns.get(h, h) for h in header}
    expected = dict.fromkeys(c.path.split(".", 1)[0] for c in mapping.dataset.columns)
    missing = [f for f in expected if f not in present]
    if missing:
        renamed = {v: k for k, v in mapping.columns.items()}
        names = ", ".join(repr(renamed.get(f, f)) for f in missing)
        raise ExportError(source, path, f"the header has no column {names} (the contract of {mapping.dataset.key} "
                                        f"needs it; header is {', '.join(header)})", line=1, column=missing[0])


def check_export(source: str, path: str, records: list[tuple[int, dict[str, Any]]], mapping: ColumnMapping,
                 csv_lines: bool) -> list[dict[str, Any]]:
    """Rename, parse configured dates, then map every record onto the contract (as the
    extract will) and check the key is unique; the first problem raises ExportError.

    `records` are (position, record): the CSV line number when `csv_lines`, else the index in
    the JSON list. Returns the records with contract field names and ISO dates.
    """
    dataset = mapping.dataset
    now = datetime.now(UTC)
    seen: dict[tuple[Any, ...], int] = {}
    key_paths = [c.path for c in dataset.columns if c.name in dataset.key_columns]
    out = []
    for position, raw in records:
        where: dict[str, int] = {"line": position} if csv_lines else {"record": position}
        record = mapping.rename(raw)
        for ours, fmt in mapping.date_formats.items():
            value = record.get(ours)
            if value in (None, ""):
                continue
            try:
                parsed = datetime.strptime(str(value).strip(), fmt)
            except ValueError:
                raise ExportError(source, path, f"{value!r} does not match the date format {fmt!r}",
                                  column=_their_name(mapping, ours), **where) from None
            column_type = next(c.type for c in dataset.columns if c.path == ours)
            record[ours] = (parsed.date().isoformat() if column_type is ColumnType.DATE
                            else (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat())
        try:
            row = dataset.to_row(record, position, observed_at=now)
        except RecordError as exc:
            column = _their_name(mapping, exc.field.split(".", 1)[0]) if exc.field else None
            raise ExportError(source, path, exc.reason, column=column, **where) from None
        key = tuple(row[name] for name in dataset.key_columns)
        if key in seen:
            first = f"line {seen[key]}" if csv_lines else f"record #{seen[key]}"
            raise ExportError(source, path, f"duplicate key {', '.join(map(str, key))} (also at {first}); "
                                            f"{', '.join(key_paths)} must be unique",
                              column=_their_name(mapping, key_paths[0]), **where)
        seen[key] = position
        out.append(record)
    return out


def _their_name(mapping: ColumnMapping, ours: str) -> str:
    """The column as the export names it, so the message points at what its producer sees."""
    return next((theirs for theirs, o in mapping.columns.items() if o == ours), ours)
