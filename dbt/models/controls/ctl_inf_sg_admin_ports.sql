-- Population for inf_sg_admin_ports: every security group in every active region, per
-- period, with the number of its ingress rules that open an administration port (SSH 22,
-- RDP 3389; "all traffic" rules included) to the whole internet, i.e. from a range with
-- prefix length 0 (0.0.0.0/0, ::/0, or a non-canonical form such as 208.236.235.254/0).
-- A group is identified by its ARN (account, region, group id): names are unique only
-- within a VPC (every VPC has a "default"), so a name would give two groups one row and
-- let an exception for one cover the other; group_name and vpc_id are shown beside it.
-- The limit (none) lives in the GX suite ctl_inf_sg_admin_ports.
{% set admin_ports = [22, 3389] %}
with

groups as (
    {{ observed_snapshot('stg_aws__security_groups', 'aws.security_groups') }}
),

open_rules as (
    select
        groups.period_start,
        ingress.group_id,
        ingress.account_id,
        ingress.region,
        count(*) as open_admin_port_rules,
        list(distinct ingress.ip_protocol || ' ' || coalesce(ingress.from_port::varchar, 'all') || '-'
             || coalesce(ingress.to_port::varchar, 'all') || ' from ' || ingress.cidr order by 1) as open_admin_port_ranges
    from groups
    join {{ ref('int_aws__security_group_ingress') }} as ingress
        on ingress.lake_file = groups.lake_file
       and ingress.account_id = groups.account_id
       and ingress.region = groups.region
       and ingress.group_id = groups.group_id
    where ingress.prefix_length = 0
      and (
        ingress.ip_protocol in ('-1', 'all')
        or (ingress.ip_protocol in ('tcp', 'udp', '6', '17') and (
            {% for port in admin_ports %}
            (ingress.from_port <= {{ port }} and ingress.to_port >= {{ port }}){{ " or" if not loop.last }}
            {% endfor %}
        ))
      )
    group by groups.period_start, ingress.group_id, ingress.account_id, ingress.region
)

select
    groups.period_start,
    groups.period_end,
    'arn:aws:ec2:' || groups.region || ':' || groups.account_id || ':security-group/' || groups.group_id
        as entity_id,
    groups.account_id,
    groups.region,
    groups.group_id,
    groups.group_name,
    groups.vpc_id,
    coalesce(open_rules.open_admin_port_rules, 0) as open_admin_port_rules,
    coalesce(open_rules.open_admin_port_ranges, []) as open_admin_port_ranges,
    groups.observed_at,
    'aws.security_groups:group_id=' || groups.group_id || '@' || strftime(groups.observed_at, '%Y-%m-%dT%H:%M:%SZ')
        as source_ref
from groups
left join open_rules
    on open_rules.period_start = groups.period_start
   and open_rules.account_id = groups.account_id
   and open_rules.region = groups.region
   and open_rules.group_id = groups.group_id
