-- nameId is the IdP's identifier for the person (the work email here); login is null for
-- an identity that no GitHub account has linked yet
select
    observed_at,
    guid,
    lower(name_id) as name_id,
    saml_username,
    login,
    raw,
    lake_file
from {{ source('github', 'github__saml_identities') }}
