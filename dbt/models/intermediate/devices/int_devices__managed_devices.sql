-- Every MDM's devices in one shape, per observation (one union branch per MDM; Intune
-- today). The OS version is compared with the company's minimum for its platform
-- (var device_os_minimums) as lists of integers, so 10.0.22631 > 10.0.9999; a platform
-- without a minimum, or a version that is not numeric, does not meet it.
with

intune as (
    select
        'intune' as mdm,
        'intune.managed_devices' as dataset,
        observed_at,
        lake_file,
        device_id,
        device_name,
        operating_system,
        os_version,
        is_encrypted,
        management_state,
        last_sync_at as last_check_in_at,
        enrolled_at,
        user_principal_name as primary_user,
        serial_number
    from {{ ref('stg_intune__managed_devices') }}
),

devices as (
    select * from intune
),

with_minimum as (
    select
        devices.*,
        case operating_system
            {%- for platform, version in var('device_os_minimums').items() %}
            when '{{ platform }}' then '{{ version }}'
            {%- endfor %}
        end as os_minimum
    from devices
)

select
    with_minimum.*,
    management_state = 'managed' as is_managed,
    management_state in ('retirePending', 'retireIssued', 'wipePending', 'wipeIssued') as is_being_removed,
    coalesce(
        os_minimum is not null
        and list_bool_and(list_transform(string_split(os_version, '.'), lambda x: try_cast(x as integer) is not null))
        and list_transform(string_split(os_version, '.'), lambda x: try_cast(x as integer))
            >= list_transform(string_split(os_minimum, '.'), lambda x: cast(x as integer)),
        false
    ) as os_meets_minimum
from with_minimum
