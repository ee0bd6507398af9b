-- CloudTrail management events with the facts the identity controls ask about.
select
    event_id,
    event_time,
    event_source,
    event_name,
    event_type,
    aws_region,
    recipient_account_id,
    source_ip_address,
    read_only,
    error_code,
    user_type,
    user_arn,
    user_invoked_by,
    -- CIS "root account usage": the root user acting itself, not an AWS service on its behalf
    coalesce(user_type = 'Root' and user_invoked_by is null and event_type is distinct from 'AwsServiceEvent', false)
        as is_root_activity,
    coalesce(event_source = 'signin.amazonaws.com' and event_name = 'ConsoleLogin', false) as is_console_login,
    coalesce(console_login_result = 'Success', false) as console_login_succeeded,
    mfa_used = 'Yes' as mfa_used,
    saml_provider_arn,
    -- a sign-in through a SAML identity provider (or any federation) was authenticated by
    -- the IdP, which enforces MFA there (control iam_okta_mfa); AWS records MFAUsed = No
    coalesce(saml_provider_arn is not null
             or user_type in ('AssumedRole', 'FederatedUser', 'SAMLUser', 'WebIdentityUser'), false)
        as authenticated_by_identity_provider,
    log_file,
    raw,
    lake_file
from {{ source('cloudtrail', 'cloudtrail__events') }}
