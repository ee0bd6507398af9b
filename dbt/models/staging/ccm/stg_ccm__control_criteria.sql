select
    control_id,
    criterion,
    -- CC6.1 -> CC6, A1.2 -> A1: the criteria family used for roll-ups
    split_part(criterion, '.', 1) as criterion_group
from {{ source('ccm', 'control_criteria') }}
