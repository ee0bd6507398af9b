"""Fetchers for systems that drop one full export a day in the inbox (LMS, GRC tool, screening vendor).

Not a source itself: `ccm.sources.lms` and `ccm.sources.grc` declare their datasets and
build their fetchers here. Each export is the system's whole register as of the end of
the day it is dated by (`<directory>/<stem>_YYYY-MM-DD.<format>`), so an extract for the
day ending at the interval's end reads exactly that file; if it has not been delivered
the extract fails naming the file it expected, and the controls that needed it are
`not_tested` with that reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ccm.errors import SourceError
from ccm.sources.extract import FetchLog, Interval
from ccm.sources.inbox import Inbox, export_day, export_for, read_records

FetcherFactory = Callable[[Inbox], Callable[[Interval, FetchLog], Iterator[dict[str, Any]]]]


def expected_name(directory: str, stem: str, extension: str, interval: Interval) -> str:
    """The inbox path of the export describing the day that closes at `interval.end`."""
    return f"{directory}/{stem}_{export_day(interval.end):%Y-%m-%d}.{extension}"


def daily_export_fetcher(source: str, directory: str, stem: str, extension: str) -> FetcherFactory:
    """A fetcher factory reading `<directory>/<stem>_<day>.<extension>` for each extract interval.

    Any file in `directory` dated the day is accepted (a re-delivery with a suffix wins, by
    name order); the message for a missing one names the file the system should have sent.
    """

    def factory(inbox: Inbox) -> Callable[[Interval, FetchLog], Iterator[dict[str, Any]]]:
        def fetch(interval: Interval, fetch_log: FetchLog) -> Iterator[dict[str, Any]]:
            try:
                export = export_for(inbox, source, directory, export_day(interval.end))
            except SourceError as exc:
                detail = str(exc).removeprefix(f"{source}: ")
                raise SourceError(source, f"export {expected_name(directory, stem, extension, interval)} "
                                          f"was not delivered ({detail})") from None
            yield from read_records(inbox, export, fetch_log, source)

        return fetch

    return factory
