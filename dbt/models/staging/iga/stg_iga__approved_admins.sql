-- The approved-administrator register per daily export; system, account and role are
-- normalised (lower-case system and account, upper-case role) for matching.
select
    observed_at,
    approval_id,
    lower(trim(system)) as system,
    lower(trim(account)) as account,
    employee_id,
    upper(trim(role)) as role,
    approved_by,
    approved_at,
    ticket,
    expires_on,
    raw,
    lake_file
from {{ source('iga', 'iga__approved_admins') }}
