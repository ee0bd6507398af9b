"""Jamf Pro's dataset: the computer inventory (Macs), with the sections the device controls need."""

from __future__ import annotations

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset

SOURCE = "jamf"
CONN_ID = "jamf_default"
T = ColumnType

COMPUTERS = Dataset(
    source=SOURCE, name="computers", kind=DatasetKind.SNAPSHOT,
    description="Computers in Jamf Pro (GET /api/v1/computers-inventory with the GENERAL, HARDWARE, DISK_ENCRYPTION, "
                "OPERATING_SYSTEM and USER_AND_LOCATION sections): management, FileVault, macOS version, last "
                "contact, assigned user and serial number.",
    key_columns=("computer_id",),
    has_api_total=True,
    columns=(
        Column("computer_id", "id", required=True),
        Column("udid", "udid"),
        Column("name", "general.name"),
        Column("is_managed", "general.remoteManagement.managed", T.BOOL, required=True),
        Column("last_contact_at", "general.lastContactTime", T.TIMESTAMP, required=True),
        Column("last_enrolled_at", "general.lastEnrolledDate", T.TIMESTAMP),
        Column("serial_number", "hardware.serialNumber"),
        Column("model", "hardware.model"),
        Column("os_name", "operatingSystem.name", required=True),
        Column("os_version", "operatingSystem.version", required=True),
        Column("filevault_status", "operatingSystem.fileVault2Status"),
        Column("boot_partition_filevault_state", "diskEncryption.bootPartitionEncryptionDetails.partitionFileVault2State",
               required=True),
        Column("username", "userAndLocation.username"),
        Column("email", "userAndLocation.email"),
    ),
)

DATASETS = (COMPUTERS,)
