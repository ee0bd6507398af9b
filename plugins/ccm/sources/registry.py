"""Every source family and dataset the pipeline knows.

A source family is a module in `ccm.sources` that defines `SOURCE` (its name), `CONN_ID`
(the Airflow connection it reads credentials from), `DATASETS` (its Dataset contracts),
`FETCHERS` ({dataset name: fetcher factory}) and `make_client(connection, **overrides)`
(a context manager yielding what the fetchers need). Modules are discovered, so adding
a source is adding one file.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from ccm.constants import DatasetKind
from ccm.datasets import Dataset
from ccm.errors import ConfigError

_REQUIRED = ("SOURCE", "CONN_ID", "DATASETS", "FETCHERS", "make_client")


def _discover() -> dict[str, ModuleType]:
    import ccm.sources as package

    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if not all(hasattr(module, name) for name in _REQUIRED):
            continue  # a helper module (http_client, extract, ...), not a source family
        if module.SOURCE in found:
            raise ConfigError(f"two source modules declare SOURCE = {module.SOURCE!r}")
        missing = {d.name for d in module.DATASETS} - set(module.FETCHERS)
        if missing:
            raise ConfigError(f"source {module.SOURCE}: no fetcher for {', '.join(sorted(missing))}")
        found[module.SOURCE] = module
    return found


SOURCES: dict[str, ModuleType] = _discover()

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


def sources_of(dataset_keys: list[str]) -> set[str]:
    """The source families the given datasets come from."""
    return {get_dataset(key).source for key in dataset_keys}
