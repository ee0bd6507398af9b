"""GitHub's datasets: organisation, members, SAML identities, repositories, branch protection,
Dependabot alerts, merged pull requests with their reviews, commits and check runs,
deployments, workflow runs, and the organisation audit log.
"""

from __future__ import annotations

from ccm.constants import DatasetKind
from ccm.datasets import Column, ColumnType, Dataset

SOURCE = "github"
CONN_ID = "github_default"
T = ColumnType

ORGANIZATION = Dataset(
    source=SOURCE, name="organization", kind=DatasetKind.SNAPSHOT,
    description="The organisation's settings (GET /orgs/{org}), incl. whether it requires 2FA.",
    key_columns=("org_id",),
    columns=(
        Column("org_id", "id", T.INT, required=True),
        Column("login", "login", required=True),
        Column("name", "name"),
        Column("two_factor_requirement_enabled", "two_factor_requirement_enabled", T.BOOL, required=True),
        Column("default_repository_permission", "default_repository_permission"),
        Column("members_can_create_repositories", "members_can_create_repositories", T.BOOL),
        Column("plan", "plan.name"),
        Column("created_at", "created_at", T.TIMESTAMP),
    ),
)

MEMBERS = Dataset(
    source=SOURCE, name="members", kind=DatasetKind.SNAPSHOT,
    description="Organisation members with role and 2FA state (record = {user, role, two_factor_disabled}).",
    key_columns=("user_id",),
    columns=(
        Column("user_id", "user.id", T.INT, required=True),
        Column("login", "user.login", required=True),
        Column("user_type", "user.type"),
        Column("site_admin", "user.site_admin", T.BOOL),
        Column("role", "role", required=True),
        Column("two_factor_disabled", "two_factor_disabled", T.BOOL, required=True),
    ),
)

SAML_IDENTITIES = Dataset(
    source=SOURCE, name="saml_identities", kind=DatasetKind.SNAPSHOT,
    description="SAML SSO identities of the organisation (GraphQL externalIdentities): nameId -> login.",
    key_columns=("guid",),
    columns=(
        Column("guid", "guid", required=True),
        Column("name_id", "samlIdentity.nameId", required=True),
        Column("saml_username", "samlIdentity.username"),
        Column("login", "user.login"),
    ),
)

REPOSITORIES = Dataset(
    source=SOURCE, name="repositories", kind=DatasetKind.SNAPSHOT,
    description="The organisation's repositories (GET /orgs/{org}/repos), with default branch and topics.",
    key_columns=("repository_id",),
    columns=(
        Column("repository_id", "id", T.INT, required=True),
        Column("name", "name", required=True),
        Column("full_name", "full_name", required=True),
        Column("private", "private", T.BOOL),
        Column("visibility", "visibility"),
        Column("archived", "archived", T.BOOL, required=True),
        Column("disabled", "disabled", T.BOOL),
        Column("fork", "fork", T.BOOL),
        Column("default_branch", "default_branch", required=True),
        Column("topics", "topics", T.STRING_LIST),
        Column("created_at", "created_at", T.TIMESTAMP),
        Column("pushed_at", "pushed_at", T.TIMESTAMP),
    ),
)

BRANCH_PROTECTION = Dataset(
    source=SOURCE, name="branch_protection", kind=DatasetKind.SNAPSHOT,
    description="Protection of each repository's default branch (record = {repository, branch, protected, "
                "protection}; protection is null when GitHub answers 404 'Branch not protected').",
    key_columns=("repository",),
    columns=(
        Column("repository", "repository", required=True),
        Column("branch", "branch", required=True),
        Column("protected", "protected", T.BOOL, required=True),
        Column("required_approving_review_count",
               "protection.required_pull_request_reviews.required_approving_review_count", T.INT),
        Column("dismiss_stale_reviews", "protection.required_pull_request_reviews.dismiss_stale_reviews", T.BOOL),
        Column("require_code_owner_reviews", "protection.required_pull_request_reviews.require_code_owner_reviews",
               T.BOOL),
        Column("enforce_admins", "protection.enforce_admins.enabled", T.BOOL),
        Column("allow_force_pushes", "protection.allow_force_pushes.enabled", T.BOOL),
        Column("allow_deletions", "protection.allow_deletions.enabled", T.BOOL),
        Column("required_linear_history", "protection.required_linear_history.enabled", T.BOOL),
        Column("required_status_checks", "protection.required_status_checks.contexts", T.STRING_LIST),
        Column("strict_status_checks", "protection.required_status_checks.strict", T.BOOL),
    ),
)

DEPENDABOT_ALERTS = Dataset(
    source=SOURCE, name="dependabot_alerts", kind=DatasetKind.SNAPSHOT,
    description="Every Dependabot alert of every repository, in its current state (record = {repository, alert}).",
    key_columns=("repository", "number"),
    columns=(
        Column("repository", "repository", required=True),
        Column("number", "alert.number", T.INT, required=True),
        Column("state", "alert.state", required=True),
        Column("severity", "alert.security_advisory.severity", required=True),
        Column("ghsa_id", "alert.security_advisory.ghsa_id"),
        Column("cve_id", "alert.security_advisory.cve_id"),
        Column("summary", "alert.security_advisory.summary"),
        Column("package_ecosystem", "alert.dependency.package.ecosystem"),
        Column("package_name", "alert.dependency.package.name"),
        Column("manifest_path", "alert.dependency.manifest_path"),
        Column("created_at", "alert.created_at", T.TIMESTAMP, required=True),
        Column("updated_at", "alert.updated_at", T.TIMESTAMP),
        Column("fixed_at", "alert.fixed_at", T.TIMESTAMP),
        Column("dismissed_at", "alert.dismissed_at", T.TIMESTAMP),
        Column("dismissed_reason", "alert.dismissed_reason"),
        Column("auto_dismissed_at", "alert.auto_dismissed_at", T.TIMESTAMP),
        Column("html_url", "alert.html_url"),
    ),
)

PULL_REQUESTS = Dataset(
    source=SOURCE, name="pull_requests", kind=DatasetKind.EVENT, time_column="merged_at",
    description="Pull requests merged in the interval (any base branch), as listed by GET /repos/{o}/{r}/pulls.",
    key_columns=("repository", "number"),
    columns=(
        Column("pull_request_id", "id", T.INT, required=True),
        Column("repository", "base.repo.full_name", required=True),
        Column("number", "number", T.INT, required=True),
        Column("title", "title"),
        Column("author_login", "user.login"),
        Column("author_type", "user.type"),
        Column("state", "state", required=True),
        Column("base_ref", "base.ref", required=True),
        Column("default_branch", "base.repo.default_branch", required=True),
        Column("head_ref", "head.ref"),
        Column("head_sha", "head.sha", required=True),
        Column("merge_commit_sha", "merge_commit_sha"),
        Column("draft", "draft", T.BOOL),
        Column("created_at", "created_at", T.TIMESTAMP, required=True),
        Column("merged_at", "merged_at", T.TIMESTAMP, required=True),
        Column("closed_at", "closed_at", T.TIMESTAMP),
    ),
)

PULL_REQUEST_REVIEWS = Dataset(
    source=SOURCE, name="pull_request_reviews", kind=DatasetKind.EVENT, time_column="merged_at",
    description="Reviews of the pull requests merged in the interval (record = {repository, pull_number, "
                "merged_at, review}).",
    key_columns=("repository", "pull_number", "review_id"),
    columns=(
        Column("repository", "repository", required=True),
        Column("pull_number", "pull_number", T.INT, required=True),
        Column("merged_at", "merged_at", T.TIMESTAMP, required=True),
        Column("review_id", "review.id", T.INT, required=True),
        Column("reviewer_login", "review.user.login"),
        Column("reviewer_type", "review.user.type"),
        Column("state", "review.state", required=True),
        Column("submitted_at", "review.submitted_at", T.TIMESTAMP),
        Column("commit_id", "review.commit_id"),
        Column("author_association", "review.author_association"),
    ),
)

PULL_REQUEST_COMMITS = Dataset(
    source=SOURCE, name="pull_request_commits", kind=DatasetKind.EVENT, time_column="merged_at",
    description="Commits of the pull requests merged in the interval, in the API's (chronological) order "
                "(record = {repository, pull_number, merged_at, position, commit}).",
    key_columns=("repository", "pull_number", "sha"),
    columns=(
        Column("repository", "repository", required=True),
        Column("pull_number", "pull_number", T.INT, required=True),
        Column("merged_at", "merged_at", T.TIMESTAMP, required=True),
        Column("position", "position", T.INT, required=True),
        Column("sha", "commit.sha", required=True),
        Column("author_login", "commit.author.login"),
        Column("author_email", "commit.commit.author.email"),
        Column("authored_at", "commit.commit.author.date", T.TIMESTAMP),
        Column("committer_login", "commit.committer.login"),
        Column("committed_at", "commit.commit.committer.date", T.TIMESTAMP),
    ),
)

CHECK_RUNS = Dataset(
    source=SOURCE, name="check_runs", kind=DatasetKind.EVENT, time_column="merged_at",
    description="Every check run on the merged head of each pull request merged in the interval "
                "(record = {repository, pull_number, merged_at, head_sha, check_run}).",
    key_columns=("repository", "pull_number", "check_run_id"),
    has_api_total=True,
    columns=(
        Column("repository", "repository", required=True),
        Column("pull_number", "pull_number", T.INT, required=True),
        Column("merged_at", "merged_at", T.TIMESTAMP, required=True),
        Column("head_sha", "head_sha", required=True),
        Column("check_run_id", "check_run.id", T.INT, required=True),
        Column("name", "check_run.name", required=True),
        Column("status", "check_run.status", required=True),
        Column("conclusion", "check_run.conclusion"),
        Column("started_at", "check_run.started_at", T.TIMESTAMP),
        Column("completed_at", "check_run.completed_at", T.TIMESTAMP),
        Column("app_slug", "check_run.app.slug"),
    ),
)

DEPLOYMENTS = Dataset(
    source=SOURCE, name="deployments", kind=DatasetKind.EVENT, time_column="created_at",
    description="Deployments created in the interval with their statuses as observed (record = {repository: "
                "{full_name, default_branch}, deployment, statuses}).",
    key_columns=("deployment_id",),
    columns=(
        Column("deployment_id", "deployment.id", T.INT, required=True),
        Column("repository", "repository.full_name", required=True),
        Column("default_branch", "repository.default_branch", required=True),
        Column("environment", "deployment.environment", required=True),
        Column("ref", "deployment.ref", required=True),
        Column("sha", "deployment.sha", required=True),
        Column("task", "deployment.task"),
        Column("creator_login", "deployment.creator.login"),
        Column("creator_type", "deployment.creator.type"),
        Column("app_slug", "deployment.performed_via_github_app.slug"),
        Column("created_at", "deployment.created_at", T.TIMESTAMP, required=True),
        Column("statuses", "statuses", T.JSON),
    ),
)

WORKFLOW_RUNS = Dataset(
    source=SOURCE, name="workflow_runs", kind=DatasetKind.EVENT, time_column="created_at",
    description="GitHub Actions workflow runs created in the interval (GET /repos/{o}/{r}/actions/runs?created=).",
    key_columns=("run_id",),
    has_api_total=True,
    columns=(
        Column("run_id", "id", T.INT, required=True),
        Column("repository", "repository.full_name", required=True),
        Column("name", "name"),
        Column("workflow_id", "workflow_id", T.INT),
        Column("path", "path"),
        Column("event", "event", required=True),
        Column("status", "status", required=True),
        Column("conclusion", "conclusion"),
        Column("head_branch", "head_branch"),
        Column("head_sha", "head_sha", required=True),
        Column("run_number", "run_number", T.INT),
        Column("run_attempt", "run_attempt", T.INT),
        Column("actor_login", "actor.login"),
        Column("triggering_actor_login", "triggering_actor.login"),
        Column("created_at", "created_at", T.TIMESTAMP, required=True),
        Column("updated_at", "updated_at", T.TIMESTAMP),
        Column("run_started_at", "run_started_at", T.TIMESTAMP),
    ),
)

AUDIT_LOG = Dataset(
    source=SOURCE, name="audit_log", kind=DatasetKind.EVENT, time_column="created_at",
    description="The organisation audit log's web events created in the interval (GET /orgs/{org}/audit-log): "
                "who changed the 2FA requirement, membership, branch protection and other settings, and when. "
                "Git events (clones, pushes) are left out: GitHub keeps them 7 days, the rest 180, and an "
                "interval older than that is refused, never extracted empty. Needs an organisation owner's "
                "token with read:audit_log.",
    key_columns=("document_id",),
    columns=(
        Column("document_id", "_document_id", required=True),
        Column("action", "action", required=True),
        Column("created_at", "created_at", T.TIMESTAMP, required=True),
        Column("operation_type", "operation_type"),
        Column("actor", "actor"),
        Column("actor_id", "actor_id", T.INT),
        Column("actor_is_bot", "actor_is_bot", T.BOOL),
        Column("org", "org"),
        Column("repo", "repo"),
        Column("user", "user"),
        Column("name", "name"),
        Column("business", "business"),
    ),
)

DATASETS = (ORGANIZATION, MEMBERS, SAML_IDENTITIES, REPOSITORIES, BRANCH_PROTECTION, DEPENDABOT_ALERTS,
            PULL_REQUESTS, PULL_REQUEST_REVIEWS, PULL_REQUEST_COMMITS, CHECK_RUNS, DEPLOYMENTS, WORKFLOW_RUNS, AUDIT_LOG)
