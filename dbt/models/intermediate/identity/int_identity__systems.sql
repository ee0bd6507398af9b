-- The systems whose accounts make up the identity graph, and how each links an account
-- to a person. One row per system; a system joins the graph by adding a row here and
-- a branch to int_identity__accounts (and, if it grants administrator rights, to
-- int_identity__admin_assignments). Systems listed before their extract exists (github,
-- aws) are still in the quarterly access-review scope: a review is owed for them.
select * from (values
    ('okta', 'Okta', 'okta.users', 'profile.employeeNumber, then profile.email / login', true),
    ('google', 'Google Workspace', 'google.users', 'externalIds[type=organization], then primaryEmail', true),
    ('github', 'GitHub', 'github.saml_identities', 'SAML nameId (the Okta login)', true),
    ('aws', 'AWS', 'aws.iam_users', 'IAM user tag "email"', true)
) as systems(system, display_name, account_dataset, identity_join, in_access_review_scope)
