-- Jamf Pro computers per observation, in the MDM vocabulary of the device models: the
-- boot partition's FileVault state ENCRYPTED is "encrypted" (ENCRYPTING, DECRYPTING,
-- UNENCRYPTED, INELIGIBLE and UNKNOWN are not); email lower-cased and serial upper-cased
-- as join keys; NULL for empty strings.
select
    observed_at,
    computer_id,
    name as device_name,
    os_name as operating_system,
    os_version,
    boot_partition_filevault_state = 'ENCRYPTED' as is_encrypted,
    boot_partition_filevault_state,
    is_managed,
    last_contact_at,
    last_enrolled_at as enrolled_at,
    nullif(lower(trim(email)), '') as user_email,
    nullif(upper(trim(serial_number)), '') as serial_number,
    model,
    raw,
    lake_file
from {{ source('jamf', 'jamf__computers') }}
