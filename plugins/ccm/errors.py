"""Domain exceptions. Each names the thing that was wrong (file, record, field, source)."""

from __future__ import annotations


class CcmError(Exception):
    """Base class for errors the pipeline reports to its operator."""


class ConfigError(CcmError):
    """A configuration file (controls, exceptions, settings) is invalid."""


class SourceError(CcmError):
    """A source API could not be read completely (unreachable, bad response, retries exhausted)."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class RecordError(CcmError):
    """One record from a source does not fit the dataset's contract."""

    def __init__(self, dataset: str, record_ref: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{dataset}: record {record_ref}: {message}")
        self.dataset = dataset
        self.record_ref = record_ref
        self.reason = message
        self.field = field  # the source field (column) at fault, when one is


class ExportError(SourceError):
    """An inbox export does not fit its dataset's contract. Names the file, the line (CSV) or
    record (JSON) and the column, so whoever produces the export can fix it; the whole export is
    refused, so nothing of a half-right file reaches the lake."""

    def __init__(self, source: str, path: str, message: str, *, line: int | None = None,
                 record: int | None = None, column: str | None = None) -> None:
        where = path
        if line is not None:
            where += f" line {line}"
        elif record is not None:
            where += f" record #{record}"
        if column is not None:
            where += f" column {column!r}"
        super().__init__(source, f"{where}: {message}")
        self.path = path
        self.line = line
        self.record = record
        self.column = column


class LakeError(CcmError):
    """The raw lake refused a write or holds something unexpected."""


class EvidenceError(CcmError):
    """The evidence store refused a write (e.g. an attempt to overwrite) or is inconsistent."""
