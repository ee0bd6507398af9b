"""Export files dropped in an inbox (HR, LMS, GRC systems): a local directory or S3 prefix.

Organisational records arrive as CSV or JSON exports, e.g.
`<inbox>/hr/employees/employees_2025-10-05.csv`. An export is dated by the `YYYY-MM-DD`
in its file name. An extract reads the export for the day its interval closes; if that
export has not been delivered, the extract fails naming the file it expected, so the
controls that need it are `not_tested` with that reason rather than tested on stale data.
Every file read is recorded with its SHA-256 in the extract manifest.

Source modules for exports (hr, grc, ...) build on this module; it is not a source itself.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import posixpath
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ccm.errors import ExportError, SourceError
from ccm.manifests import InputFile
from ccm.sources.exports.contract import DEFAULT_ENCODING, ColumnMapping, check_export, check_header, decode
from ccm.sources.extract import FetchLog

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class ExportFile:
    path: str  # relative to the inbox root
    dated: date


class Inbox:
    def __init__(self, uri: str, s3_endpoint_url: str | None = None,
                 mappings: dict[str, ColumnMapping] | None = None) -> None:
        from ccm.lake import open_filesystem  # pyarrow: not at import time, DAG files import this package

        self.uri = uri
        self.mappings = mappings or {}  # dataset key -> configured column mapping (contract.load_mappings)
        self.fs, self.root = open_filesystem(uri, s3_endpoint_url)

    def __enter__(self) -> Inbox:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def exports(self, directory: str) -> list[ExportFile]:
        """Dated export files in `directory` (relative), oldest first."""
        import pyarrow.fs as pafs

        selector = pafs.FileSelector(posixpath.join(self.root, directory), allow_not_found=True, recursive=False)
        found = []
        for info in self.fs.get_file_info(selector):
            name = posixpath.basename(info.path)
            match = _DATE.search(name)
            if info.type != pafs.FileType.File or name.startswith(".") or not match:
                continue
            found.append(ExportFile(posixpath.relpath(info.path, self.root), date.fromisoformat(match.group(1))))
        return sorted(found, key=lambda f: (f.dated, f.path))

    def read(self, relative: str) -> bytes:
        with self.fs.open_input_stream(posixpath.join(self.root, relative)) as stream:
            return stream.read()


def export_for(inbox: Inbox, source: str, directory: str, day: date) -> ExportFile:
    """The export dated `day` in `directory`, or SourceError naming what is missing."""
    exports = inbox.exports(directory)
    matching = [f for f in exports if f.dated == day]
    if not matching:
        latest = f"; latest is {exports[-1].path}" if exports else "; the directory is empty"
        raise SourceError(source, f"no export dated {day.isoformat()} in {inbox.uri}/{directory}{latest}")
    return matching[-1]


def export_day(interval_end: datetime) -> date:
    """Exports are produced after the day closes and dated by the day they describe."""
    return (interval_end - timedelta(microseconds=1)).date()


def read_records(inbox: Inbox, export: ExportFile, fetch_log: FetchLog, source: str,
                 mapping: ColumnMapping | None = None) -> list[dict[str, Any]]:
    """Parse a CSV (header row) or JSON (list of objects) export and record it as an input.

    With the dataset's `mapping` (its contract and how the export differs from it) the whole
    file is checked first (`ccm.sources.exports.contract`): a malformed export raises
    ExportError naming file, line or record, and column, and none of it is returned.
    """
    data = inbox.read(export.path)
    fetch_log.inputs.append(InputFile(export.path, hashlib.sha256(data).hexdigest(), len(data)))
    fetch_log.pages += 1
    text = decode(source, export.path, data, mapping.encoding if mapping else DEFAULT_ENCODING)
    if export.path.endswith(".json"):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExportError(source, export.path, f"is not valid JSON: {exc.msg} at column {exc.colno}",
                              line=exc.lineno) from None
        if not isinstance(records, list):
            raise ExportError(source, export.path, "expected a JSON list of records")
        if mapping is None:
            return records
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                raise ExportError(source, export.path, f"expected an object, got {type(record).__name__}",
                                  record=index)
        return check_export(source, export.path, list(enumerate(records)), mapping, csv_lines=False)
    if export.path.endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise ExportError(source, export.path, "empty CSV (no header row)")
        if mapping is not None:
            check_header(source, export.path, list(reader.fieldnames), mapping)
        rows = []
        for row in reader:
            if None in row:
                raise ExportError(source, export.path, "more fields than the header has", line=reader.line_num)
            rows.append((reader.line_num, {k: (v if v != "" else None) for k, v in row.items()}))
        if mapping is None:
            return [row for _, row in rows]
        return check_export(source, export.path, rows, mapping, csv_lines=True)
    raise ExportError(source, export.path, "unsupported export format (expected .csv or .json)")
