-- Okta System Log events, one row per event. `target_user_id` is the first target that
-- is a user: whom a lifecycle, factor or privilege event is about (a sign-in has none;
-- its actor is the user).
select
    uuid,
    published,
    event_type,
    severity,
    display_message,
    actor_id,
    actor_type,
    lower(actor_alternate_id) as actor_alternate_id,
    actor_display_name,
    outcome_result,
    outcome_reason,
    client_ip,
    transaction_id,
    list_filter(cast(target as json[]), lambda t: t ->> 'type' = 'User')[1] ->> 'id' as target_user_id,
    lower(list_filter(cast(target as json[]), lambda t: t ->> 'type' = 'User')[1] ->> 'alternateId')
        as target_alternate_id,
    raw,
    lake_file
from {{ source('okta', 'okta__system_log') }}
