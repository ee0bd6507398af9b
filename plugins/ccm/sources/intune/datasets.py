"""Microsoft Intune's dataset: the managed devices (Microsoft Graph v1.0 managedDevice)."""

from __future__ import annotations

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset

SOURCE = "intune"
CONN_ID = "intune_default"
T = ColumnType

MANAGED_DEVICES = Dataset(
    source=SOURCE, name="managed_devices", kind=DatasetKind.SNAPSHOT,
    description="Devices enrolled in Intune (GET /v1.0/deviceManagement/managedDevices): encryption, compliance, "
                "OS version, last check-in, primary user and serial number.",
    key_columns=("device_id",),
    columns=(
        Column("device_id", "id", required=True),
        Column("device_name", "deviceName"),
        Column("operating_system", "operatingSystem", required=True),
        Column("os_version", "osVersion", required=True),
        Column("is_encrypted", "isEncrypted", T.BOOL, required=True),
        Column("compliance_state", "complianceState", required=True),
        Column("management_state", "managementState", required=True),
        Column("last_sync_at", "lastSyncDateTime", T.TIMESTAMP, required=True),
        Column("enrolled_at", "enrolledDateTime", T.TIMESTAMP),
        Column("user_principal_name", "userPrincipalName"),
        Column("email_address", "emailAddress"),
        Column("serial_number", "serialNumber"),
        Column("owner_type", "managedDeviceOwnerType"),
        Column("model", "model"),
        Column("manufacturer", "manufacturer"),
    ),
)

DATASETS = (MANAGED_DEVICES,)
