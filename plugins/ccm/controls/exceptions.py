"""Approved control exceptions (`include/exceptions.yml`).

An exception covers one failing entity of one control. It is in force from `approved_on`
(start of that UTC day) through `expires_on` (end of that UTC day). It covers a period
only if it is in force when the period closes: an exception that expired during the
period no longer covers it, and one approved after the period closed never did.

A company's exceptions live in its company folder (`exceptions.yml` beside its
`controls.yml`) and are merged with the shipped register; an exception_id used in both
is an error naming both files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ccm.errors import ConfigError
from ccm.periods import Period

log = logging.getLogger(__name__)

_REQUIRED = ("exception_id", "control_id", "entity_id", "reason", "approved_by", "approved_on", "ticket", "expires_on")


@dataclass(frozen=True)
class ControlException:
    exception_id: str
    control_id: str
    entity_id: str
    reason: str
    approved_by: str
    approved_on: date
    ticket: str
    expires_on: date

    @property
    def valid_from(self) -> datetime:
        return datetime(self.approved_on.year, self.approved_on.month, self.approved_on.day, tzinfo=UTC)

    @property
    def valid_until(self) -> datetime:
        return datetime(self.expires_on.year, self.expires_on.month, self.expires_on.day, tzinfo=UTC) + timedelta(days=1)

    def covers(self, control_id: str, entity_id: str, period: Period) -> bool:
        return (
            self.control_id == control_id
            and self.entity_id == entity_id
            and self.valid_from < period.end <= self.valid_until
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "exception_id": self.exception_id, "control_id": self.control_id, "entity_id": self.entity_id,
            "reason": self.reason, "approved_by": self.approved_by, "approved_on": self.approved_on.isoformat(),
            "ticket": self.ticket, "expires_on": self.expires_on.isoformat(),
        }


@dataclass(frozen=True)
class ExceptionRegister:
    exceptions: tuple[ControlException, ...]

    def for_control(self, control_id: str) -> list[ControlException]:
        return [e for e in self.exceptions if e.control_id == control_id]

    def covering(self, control_id: str, entity_id: str, period: Period) -> ControlException | None:
        for exception in self.exceptions:
            if exception.covers(control_id, entity_id, period):
                return exception
        return None


def _as_date(value: Any, where: str, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: field {field!r} must be a date (YYYY-MM-DD); got {value!r}") from None


def load_exceptions(path: Path, known_controls: set[str] | None = None, *,
                    company_dir: Path | None = None) -> ExceptionRegister:
    """The register at `path`, plus the company's `exceptions.yml` when `company_dir` is given."""
    register = _load_file(path, known_controls)
    company_file = Path(company_dir) / "exceptions.yml" if company_dir is not None else None
    if company_file is None or not company_file.exists():
        return register
    company = _load_file(company_file, known_controls)
    shipped_ids = {e.exception_id for e in register.exceptions}
    for exception in company.exceptions:
        if exception.exception_id in shipped_ids:
            raise ConfigError(f"exception_id {exception.exception_id!r} is used in both {path} and {company_file}")
    return ExceptionRegister(register.exceptions + company.exceptions)


def load_exception_register(settings: Any, known_controls: set[str] | None = None) -> ExceptionRegister:
    """The exceptions a deployment applies: the shipped register plus its company's."""
    return load_exceptions(settings.exceptions_path, known_controls, company_dir=settings.company_dir)


def _load_file(path: Path, known_controls: set[str] | None) -> ExceptionRegister:
    where = str(path)
    if not Path(path).exists():
        return ExceptionRegister(())
    try:
        document = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from None
    entries = document.get("exceptions") if isinstance(document, dict) else None
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: 'exceptions' must be a list")
    parsed: list[ControlException] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        ewhere = f"{where}: exception #{index}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{ewhere}: expected a mapping")
        if entry.get("exception_id"):
            ewhere = f"{ewhere} ({entry['exception_id']})"
        for key in _REQUIRED:
            if entry.get(key) in (None, ""):
                raise ConfigError(f"{ewhere}: field {key!r} is required")
        if known_controls is not None and entry["control_id"] not in known_controls:
            # a retired control, or a deployment running part of the matrix: the exception
            # cannot apply (the safe direction: its entity fails rather than being excepted)
            log.warning("%s: control %r is not in the control matrix; the exception is ignored",
                        ewhere, entry["control_id"])
            continue
        approved_on = _as_date(entry["approved_on"], ewhere, "approved_on")
        expires_on = _as_date(entry["expires_on"], ewhere, "expires_on")
        if expires_on < approved_on:
            raise ConfigError(f"{ewhere}: field 'expires_on' is before 'approved_on'")
        if entry["exception_id"] in seen:
            raise ConfigError(f"{ewhere}: exception_id is used twice")
        seen.add(entry["exception_id"])
        parsed.append(ControlException(
            exception_id=str(entry["exception_id"]), control_id=str(entry["control_id"]),
            entity_id=str(entry["entity_id"]), reason=" ".join(str(entry["reason"]).split()),
            approved_by=str(entry["approved_by"]), approved_on=approved_on, ticket=str(entry["ticket"]),
            expires_on=expires_on,
        ))
    return ExceptionRegister(tuple(parsed))
