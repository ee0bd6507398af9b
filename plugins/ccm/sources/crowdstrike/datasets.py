"""CrowdStrike Falcon's dataset: the hosts with a Falcon sensor (device details v2)."""

from __future__ import annotations

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset

SOURCE = "crowdstrike"
CONN_ID = "crowdstrike_default"
T = ColumnType

HOSTS = Dataset(
    source=SOURCE, name="hosts", kind=DatasetKind.SNAPSHOT,
    description="Hosts with a Falcon sensor (GET /devices/queries/devices/v1, then POST /devices/entities/devices/v2):"
                " when the sensor was last seen, its status, platform, agent and OS version, serial number.",
    key_columns=("device_id",),
    has_api_total=True,
    columns=(
        Column("device_id", "device_id", required=True),
        Column("hostname", "hostname"),
        Column("serial_number", "serial_number"),
        Column("last_seen", "last_seen", T.TIMESTAMP, required=True),
        Column("first_seen", "first_seen", T.TIMESTAMP),
        Column("status", "status", required=True),
        Column("platform_name", "platform_name", required=True),
        Column("agent_version", "agent_version", required=True),
        Column("os_version", "os_version"),
        Column("product_type_desc", "product_type_desc"),
    ),
)

DATASETS = (HOSTS,)
