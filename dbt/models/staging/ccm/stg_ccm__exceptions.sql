select
    exception_id,
    control_id,
    entity_id,
    reason,
    approved_by,
    ticket,
    approved_on,
    expires_on,
    valid_from,
    valid_until
from {{ source('ccm', 'exceptions') }}
