"""Credentials for sources: Airflow Connections in the DAGs, the environment in the CLI.

Both use the same shape. Outside Airflow, a connection `okta_default` is read from the
environment variable `AIRFLOW_CONN_OKTA_DEFAULT` (Airflow's own JSON or URI format), so
one setting serves the CLI and the scheduler. Secrets are wrapped so they never print.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from ccm.errors import ConfigError
from ccm.sources.http_client import Secret


@dataclass(frozen=True)
class Connection:
    conn_id: str
    host: str = ""
    port: int | None = None
    schema: str = ""
    login: str = ""
    password: Secret = field(default=Secret(""), repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """For HTTP sources: host may be a full URL, or host + port + schema (scheme)."""
        if self.host.startswith(("http://", "https://")):
            base = self.host.rstrip("/")
            if self.port and f":{self.port}" not in base.split("//", 1)[1]:
                base = f"{base}:{self.port}"
            return base
        if not self.host:
            raise ConfigError(f"connection {self.conn_id}: no host")
        scheme = self.schema or "https"
        return f"{scheme}://{self.host}" + (f":{self.port}" if self.port else "")


def required(connection: Connection | None, source: str, conn_id: str) -> Connection:
    """The connection a source family cannot work without (None: it was not configured)."""
    if connection is None:
        raise ConfigError(f"source {source}: no {conn_id} connection")
    return connection


def _env_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def from_env(conn_id: str, env: dict[str, str] | None = None) -> Connection:
    env = os.environ if env is None else env
    value = env.get(_env_name(conn_id))
    if not value:
        raise ConfigError(f"connection {conn_id}: set {_env_name(conn_id)} (JSON or URI, as for Airflow)")
    value = value.strip()
    if value.startswith("{"):
        try:
            doc = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"connection {conn_id}: {_env_name(conn_id)} is not valid JSON: {exc.msg}") from None
        extra = doc.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra)
        return Connection(conn_id, host=doc.get("host") or "", port=doc.get("port"), schema=doc.get("schema") or "",
                          login=doc.get("login") or "", password=Secret(doc.get("password") or ""), extra=extra)
    parts = urlsplit(value)
    return Connection(conn_id, host=parts.hostname or "", port=parts.port, schema=parts.path.lstrip("/"),
                      login=unquote(parts.username or ""), password=Secret(unquote(parts.password or "")))


def from_airflow(conn_id: str) -> Connection:
    """Resolve through Airflow (secrets backends included). Only call inside a task."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    return Connection(conn_id, host=conn.host or "", port=conn.port, schema=conn.schema or "",
                      login=conn.login or "", password=Secret(conn.password or ""),
                      extra=conn.extra_dejson or {})
