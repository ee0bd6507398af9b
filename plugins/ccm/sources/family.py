"""What a source family is: a name, its datasets, how to open a client, how to fetch each dataset.

A family is one system the pipeline reads (Okta, the CloudTrail bucket, the HRIS's
exports, ...). `ccm.sources.registry` lists every family explicitly; nothing is found by
module attributes. Each family package builds its `FAMILY` from its own three parts:

    FAMILY = SourceFamily.from_modules(datasets, client, fetchers)

(`datasets.SOURCE`, `datasets.CONN_ID`, `datasets.DATASETS`, `client.make_client`,
`fetchers.FETCHERS`).

`make_client(connection, settings, **overrides)` returns a context manager (the client,
closed when the extract is done); `fetchers[dataset.name](client)` returns the `Fetcher`
`ccm.sources.extract.run_extract` runs for one interval.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from ccm.errors import ConfigError

if TYPE_CHECKING:
    from ccm.config import Settings
    from ccm.datasets import Dataset
    from ccm.sources.connections import Connection
    from ccm.sources.extract import Fetcher

ClientT = TypeVar("ClientT")
ClientT_co = TypeVar("ClientT_co", covariant=True)


class ClientFactory(Protocol[ClientT_co]):
    """Opens what a family's fetchers read through, from its connection and the settings.

    `connection` is None for a family without credentials (`conn_id` None: exports in the
    inbox). Overrides are for tests and tuning (retry limits, page sizes, workers); a
    family ignores or refuses the ones that do not apply to it.
    """

    def __call__(self, connection: Connection | None, settings: Settings, /,
                 **overrides: Any) -> AbstractContextManager[ClientT_co]: ...


FetcherFactory = Callable[[ClientT], "Fetcher"]


@dataclass(frozen=True)
class SourceFamily(Generic[ClientT]):
    """One source family: checked when built (every dataset is the family's, and has a fetcher)."""

    name: str
    conn_id: str | None  # the Airflow connection with its credentials; None: none needed
    datasets: tuple[Dataset, ...]
    make_client: ClientFactory[ClientT] = field(repr=False)
    fetchers: Mapping[str, FetcherFactory[ClientT]] = field(repr=False)

    def __post_init__(self) -> None:
        foreign = sorted(d.key for d in self.datasets if d.source != self.name)
        if foreign:
            raise ConfigError(f"source {self.name}: datasets of another source: {', '.join(foreign)}")
        names = {d.name for d in self.datasets}
        missing = names - set(self.fetchers)
        if missing:
            raise ConfigError(f"source {self.name}: no fetcher for {', '.join(sorted(missing))}")
        unknown = set(self.fetchers) - names
        if unknown:
            raise ConfigError(f"source {self.name}: fetchers for unknown datasets {', '.join(sorted(unknown))}")

    @classmethod
    def from_modules(cls, datasets: ModuleType, client: ModuleType, fetchers: ModuleType) -> SourceFamily[Any]:
        """A family package's `FAMILY` from its parts: `datasets` (SOURCE, CONN_ID, DATASETS),
        `client` (make_client) and `fetchers` (FETCHERS)."""
        return cls(name=datasets.SOURCE, conn_id=datasets.CONN_ID, datasets=datasets.DATASETS,
                   make_client=client.make_client, fetchers=fetchers.FETCHERS)

    def fetcher(self, dataset: Dataset, client: ClientT) -> Fetcher:
        """The fetcher for one of this family's datasets, reading through `client`."""
        return self.fetchers[dataset.name](client)
