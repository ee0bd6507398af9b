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

    def __init__(self, dataset: str, record_ref: str, message: str) -> None:
        super().__init__(f"{dataset}: record {record_ref}: {message}")
        self.dataset = dataset
        self.record_ref = record_ref
        self.reason = message


class LakeError(CcmError):
    """The raw lake refused a write or holds something unexpected."""


class EvidenceError(CcmError):
    """The evidence store refused a write (e.g. an attempt to overwrite) or is inconsistent."""
