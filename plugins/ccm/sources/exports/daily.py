"""The one fetcher and family shape of every system that drops a full export a day in the inbox.

HR (the roster), the LMS, the GRC tool and the screening vendor, the IGA tool: each
export is the system's whole register as of the end of the day it is dated by,
`<inbox>/<source>/<dataset>/<dataset>_YYYY-MM-DD.<format>`, so an extract for the day
ending at the interval's end reads exactly that file. If it has not been delivered the
extract fails naming the file it expected (and what the directory holds instead), and
the controls that needed it are `not_tested` with that reason; a file that cannot be
read fails naming the file and the line (`ccm.sources.exports.inbox.read_records`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ccm.errors import SourceError
from ccm.sources.connections import Connection
from ccm.sources.exports.contract import ColumnMapping, load_mappings
from ccm.sources.exports.inbox import Inbox, export_day, export_for, read_records
from ccm.sources.extract import Fetcher, FetchLog, Interval
from ccm.sources.family import SourceFamily

if TYPE_CHECKING:
    from ccm.config import Settings
    from ccm.datasets import Dataset

FetcherFactory = Callable[[Inbox], Fetcher]


def expected_name(directory: str, stem: str, extension: str, interval: Interval) -> str:
    """The inbox path of the export describing the day that closes at `interval.end`."""
    return f"{directory}/{stem}_{export_day(interval.end):%Y-%m-%d}.{extension}"


def daily_export_fetcher(dataset: Dataset, directory: str, stem: str, extension: str) -> FetcherFactory:
    """A fetcher factory reading `<directory>/<stem>_<day>.<extension>` for each extract interval.

    Any file in `directory` dated the day is accepted (a re-delivery with a suffix wins, by
    name order); the message for a missing one names the file the system should have sent.
    The file is checked whole against the dataset's contract, through the inbox's configured
    column mapping if it has one, before any record is yielded.
    """
    source = dataset.source

    def factory(inbox: Inbox) -> Fetcher:
        def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
            try:
                export = export_for(inbox, source, directory, export_day(interval.end))
            except SourceError as exc:
                detail = str(exc).removeprefix(f"{source}: ")
                raise SourceError(source, f"export {expected_name(directory, stem, extension, interval)} "
                                          f"was not delivered ({detail})") from None
            mapping = inbox.mappings.get(dataset.key) or ColumnMapping.identity(dataset)
            yield from read_records(inbox, export, fetch_log, source, mapping)

        return fetch

    return factory


def make_inbox(connection: Connection | None, settings: Settings, /, **_overrides: Any) -> Inbox:
    """Exports arrive in the inbox (`Settings.inbox_uri`): no connection, no credentials; how
    an export's columns differ from its contract comes from `Settings.inbox_mapping_path`."""
    from ccm.sources.exports.datasets import DATASETS

    mappings = load_mappings(settings.inbox_mapping_path, {d.key: d for d in DATASETS})
    return Inbox(settings.inbox_uri, settings.s3_endpoint_url, mappings)


def export_family(source: str, datasets: tuple[Dataset, ...], formats: Mapping[str, str]) -> SourceFamily[Inbox]:
    """A family of daily exports: `formats` gives each dataset's file format (csv or json),
    its export being `<source>/<dataset>/<dataset>_YYYY-MM-DD.<format>`."""
    return SourceFamily(
        name=source, conn_id=None, datasets=datasets, make_client=make_inbox,
        fetchers={d.name: daily_export_fetcher(d, f"{source}/{d.name}", d.name, formats[d.name])
                  for d in datasets},
    )
