"""Every dataset the pipeline knows, by key ("okta.users")."""

from __future__ import annotations

from types import ModuleType

from ccm.constants import DatasetKind
from ccm.datasets import Dataset
from ccm.errors import ConfigError
from ccm.sources import okta

# one module per source family: SOURCE, CONN_ID, DATASETS, FETCHERS, make_client
SOURCES: dict[str, ModuleType] = {module.SOURCE: module for module in (okta,)}

ALL_DATASETS: tuple[Dataset, ...] = tuple(d for module in SOURCES.values() for d in module.DATASETS)

DATASETS: dict[str, Dataset] = {d.key: d for d in ALL_DATASETS}
if len(DATASETS) != len(ALL_DATASETS):
    raise ConfigError("two datasets share a key")


def get_dataset(key: str) -> Dataset:
    try:
        return DATASETS[key]
    except KeyError:
        raise ConfigError(f"unknown dataset {key!r}; known: {', '.join(sorted(DATASETS))}") from None


def dataset_kinds() -> dict[str, DatasetKind]:
    return {key: d.kind for key, d in DATASETS.items()}


def datasets_of(source: str) -> list[Dataset]:
    return [d for d in ALL_DATASETS if d.source == source]


def source_module(source: str) -> ModuleType:
    try:
        return SOURCES[source]
    except KeyError:
        raise ConfigError(f"unknown source {source!r}; known: {', '.join(sorted(SOURCES))}") from None
