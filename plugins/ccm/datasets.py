"""Dataset contracts: what each raw dataset holds, typed, beside the original record.

A dataset's columns are declared once here; the extract maps every source record onto
them (a record that does not fit is quarantined with its reason), the lake writes them
with this exact Arrow schema, and the warehouse registers them under the same name.
The original record is always kept as JSON in the `raw` column so evidence can show
the source.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from ccm.constants import DatasetKind
from ccm.errors import ConfigError, RecordError


class ColumnType(StrEnum):
    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    TIMESTAMP = "timestamp"
    DATE = "date"
    STRING_LIST = "string_list"
    JSON = "json"  # nested value kept as a JSON string



def _arrow_type(column_type: ColumnType):  # pyarrow is imported lazily: DAG files import this module
    import pyarrow as pa

    return {
        ColumnType.STRING: pa.string(),
        ColumnType.INT: pa.int64(),
        ColumnType.FLOAT: pa.float64(),
        ColumnType.BOOL: pa.bool_(),
        ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
        ColumnType.DATE: pa.date32(),
        ColumnType.STRING_LIST: pa.list_(pa.string()),
        ColumnType.JSON: pa.string(),
    }[column_type]


OBSERVED_AT = "observed_at"
RAW = "raw"


@dataclass(frozen=True)
class Column:
    """One typed column, read from `path` (dotted, into the source record)."""

    name: str
    path: str
    type: ColumnType = ColumnType.STRING
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Dataset:
    source: str
    name: str
    kind: DatasetKind
    columns: tuple[Column, ...]
    key_columns: tuple[str, ...]
    time_column: str | None = None
    description: str = ""
    # set when the API reports how many records exist, so the manifest can compare
    has_api_total: bool = False
    # event datasets whose source can deliver records late (log files landing in S3 after
    # the run that extracted their day): every extract also re-extracts the days of
    # Settings.late_data_lookback before its interval, each complete or not on its own
    late_arriving: bool = False
    extra_meta: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ConfigError(f"dataset {self.key}: duplicate column names")
        if self.kind is DatasetKind.EVENT and self.time_column not in names:
            raise ConfigError(f"dataset {self.key}: event datasets need a time_column among their columns")
        for key in self.key_columns:
            if key not in names:
                raise ConfigError(f"dataset {self.key}: key column {key!r} is not a column")

    @property
    def key(self) -> str:
        return f"{self.source}.{self.name}"

    @property
    def table_name(self) -> str:
        """Name of the dataset's relation in the warehouse's `raw` and `planned` schemas."""
        return f"{self.source}__{self.name}"

    @property
    def arrow_schema(self) -> Any:
        import pyarrow as pa

        fields = []
        if self.kind is DatasetKind.SNAPSHOT:
            fields.append(pa.field(OBSERVED_AT, _arrow_type(ColumnType.TIMESTAMP), nullable=False))
        fields += [pa.field(c.name, _arrow_type(c.type), nullable=not c.required) for c in self.columns]
        fields.append(pa.field(RAW, pa.string(), nullable=False))
        return pa.schema(fields)

    def record_ref(self, record: Any, position: int) -> str:
        """How an error names a record: its position and the key fields it has."""
        parts = [f"#{position}"]
        if isinstance(record, Mapping):
            for column in self.columns:
                if column.name in self.key_columns:
                    value = lookup(record, column.path)
                    if value is not None:
                        parts.append(f"{column.path}={value}")
        return " ".join(parts)

    def to_row(self, record: Any, position: int, observed_at: datetime | None = None) -> dict[str, Any]:
        """Map one source record onto the typed columns, or raise RecordError naming it."""
        ref = self.record_ref(record, position)
        if not isinstance(record, Mapping):
            raise RecordError(self.key, ref, f"expected a JSON object, got {type(record).__name__}")
        row: dict[str, Any] = {}
        if self.kind is DatasetKind.SNAPSHOT:
            if observed_at is None:
                raise RecordError(self.key, ref, "snapshot rows need observed_at")
            row[OBSERVED_AT] = observed_at
        for column in self.columns:
            value = lookup(record, column.path)
            if value is None:
                if column.required:
                    raise RecordError(self.key, ref, f"required field {column.path!r} is missing", column.path)
                row[column.name] = None
                continue
            try:
                row[column.name] = convert(value, column.type)
            except (TypeError, ValueError) as exc:
                raise RecordError(
                    self.key, ref, f"field {column.path!r} should be {column.type.value}, got {value!r} ({exc})",
                    column.path) from None
        row[RAW] = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
        return row


def lookup(record: Mapping[str, Any], path: str) -> Any:
    """Follow a dotted path; missing keys and JSON nulls both give None."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
        if value is None:
            return None
    return value


def parse_timestamp(value: Any) -> datetime:
    """ISO-8601 (with Z or offset), Okta's "YYYY-MM-DD HH:MM:SS.fffffffff", or epoch milliseconds."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a timestamp")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    if not isinstance(value, str) or not value:
        raise TypeError("expected an ISO-8601 string")
    text = value.strip().replace(" ", "T", 1).replace("Z", "+00:00")
    if "." in text:  # Python accepts at most 6 fractional digits
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        rest = tail[len(digits):]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def convert(value: Any, column_type: ColumnType) -> Any:
    match column_type:
        case ColumnType.STRING:
            if isinstance(value, Mapping | list):
                raise TypeError("expected a scalar")
            return str(value)
        case ColumnType.INT:
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise TypeError("expected an integer")
            return int(value)
        case ColumnType.FLOAT:
            if isinstance(value, bool):
                raise TypeError("expected a number")
            return float(value)
        case ColumnType.BOOL:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in {"true", "false"}:
                return value.lower() == "true"
            raise TypeError("expected a boolean")
        case ColumnType.TIMESTAMP:
            return parse_timestamp(value)
        case ColumnType.DATE:
            if not isinstance(value, str):
                raise TypeError("expected a YYYY-MM-DD date")
            return date.fromisoformat(value.strip()[:10])
        case ColumnType.STRING_LIST:
            if not isinstance(value, Sequence) or isinstance(value, str):
                raise TypeError("expected a list")
            return [str(item) for item in value]
        case ColumnType.JSON:
            return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    raise ConfigError(f"unknown column type {column_type!r}")
