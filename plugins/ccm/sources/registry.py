"""Every source family and dataset the pipeline knows, listed here explicitly.

A family (`ccm.sources.family.SourceFamily`) is a name, the Airflow connection it reads
credentials from, its Dataset contracts, `make_client(connection, settings, **overrides)`
and a fetcher factory per dataset. Adding a source is adding its package and one entry
to `FAMILIES`; everything that needs a source's datasets, connection, client or fetchers
asks this module.
"""

from __future__ import annotations

from typing import Any

from ccm.constants import DatasetKind
from ccm.datasets import Dataset
from ccm.errors import ConfigError
from ccm.sources import aws, cloudtrail, crowdstrike, exports, github, google, intune, jamf, okta
from ccm.sources.family import SourceFamily

FAMILIES: tuple[SourceFamily[Any], ...] = (
    aws.FAMILY,
    cloudtrail.FAMILY,
    github.FAMILY,
    google.FAMILY,
    *exports.FAMILIES,  # grc, hr, iga, lms
    okta.FAMILY,
    intune.FAMILY,  # devices (MDM)
    crowdstrike.FAMILY,  # devices (EDR)
    jamf.FAMILY,  # devices (MDM, Macs)
)


def _by_name(families: tuple[SourceFamily[Any], ...]) -> dict[str, SourceFamily[Any]]:
    found: dict[str, SourceFamily[Any]] = {}
    for family in families:
        if family.name in found:
            raise ConfigError(f"two source families are named {family.name!r}")
        found[family.name] = family
    return found


SOURCES: dict[str, SourceFamily[Any]] = _by_name(FAMILIES)

ALL_DATASETS: tuple[Dataset, ...] = tuple(d for family in FAMILIES for d in family.datasets)

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


def source_family(source: str) -> SourceFamily[Any]:
    try:
        return SOURCES[source]
    except KeyError:
        raise ConfigError(f"unknown source {source!r}; known: {', '.join(sorted(SOURCES))}") from None


def sources_of(dataset_keys: list[str]) -> set[str]:
    """The source families the given datasets come from."""
    return {get_dataset(key).source for key in dataset_keys}
