-- One row per (security group, ingress permission, source range) with the port range and
-- the range's prefix length. The prefix length is read from the CIDR text, not compared
-- with "0.0.0.0/0": AWS stores ranges as written, e.g. "208.236.235.254/0" is also the
-- whole IPv4 internet.
with

permissions as (
    select
        observed_at, account_id, account_name, region, group_id, group_name, vpc_id, lake_file,
        unnest(json_extract(ip_permissions, '$[*]')) as permission
    from {{ ref('stg_aws__security_groups') }}
),

ranges as (
    select
        *,
        unnest(
            list_transform(json_extract_string(permission, '$.IpRanges[*].CidrIp'), lambda c: {'cidr': c, 'ipv6': false})
            || list_transform(json_extract_string(permission, '$.Ipv6Ranges[*].CidrIpv6'), lambda c: {'cidr': c, 'ipv6': true})
        ) as source_range
    from permissions
)

select
    observed_at,
    account_id,
    account_name,
    region,
    group_id,
    group_name,
    vpc_id,
    lower(permission ->> 'IpProtocol') as ip_protocol,
    (permission ->> 'FromPort')::integer as from_port,
    (permission ->> 'ToPort')::integer as to_port,
    source_range.cidr as cidr,
    source_range.ipv6 as is_ipv6,
    try_cast(split_part(source_range.cidr, '/', 2) as integer) as prefix_length,
    lake_file
from ranges
