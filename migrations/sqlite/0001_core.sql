-- Times are unix milliseconds (BIGINT) on both backends, so one set of queries serves both.
CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Ingest keys: the same secret is the native Bearer token, the Rollbar access token and the
-- Sentry DSN public key. Several per project so a key can be rotated without downtime.
CREATE TABLE project_keys (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    token TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    is_admin BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Only a hash of an API token is kept: a leaked database does not leak working tokens.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE TABLE project_members (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, user_id)
);

-- status: unresolved | regressed | resolved | ignored | merged
CREATE TABLE issues (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    culprit TEXT,
    level TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'unresolved',
    count BIGINT NOT NULL DEFAULT 0,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    resolved_at BIGINT,
    regressed_at BIGINT,
    merged_into BIGINT REFERENCES issues(id),
    grouping_version BIGINT NOT NULL,
    components TEXT NOT NULL
);
CREATE INDEX issues_by_last_seen ON issues (project_id, status, last_seen);
CREATE INDEX issues_by_first_seen ON issues (project_id, status, first_seen);
CREATE INDEX issues_by_count ON issues (project_id, status, count);

-- Every hash an issue is known by (in-app and all-frames hashes, hashes of merged issues).
CREATE TABLE issue_hashes (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    hash TEXT NOT NULL,
    grouping_version BIGINT NOT NULL,
    issue_id BIGINT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, hash)
);
CREATE INDEX issue_hashes_by_issue ON issue_hashes (issue_id);

-- event: zstd of the normalized event JSON; raw: zstd of the body as the client sent it, kept
-- when it is not already the native JSON, so nothing a client sent is lost.
CREATE TABLE occurrences (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    issue_id BIGINT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    uuid TEXT NOT NULL,
    timestamp BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    level TEXT NOT NULL,
    environment TEXT,
    release TEXT,
    host TEXT,
    protocol TEXT NOT NULL,
    event BLOB NOT NULL,
    raw BLOB,
    UNIQUE (project_id, uuid)
);
CREATE INDEX occurrences_by_issue ON occurrences (issue_id, id);

CREATE TABLE issue_hourly (
    issue_id BIGINT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    hour BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (issue_id, hour)
);

-- Per-issue breakdowns and filters: facet is host | environment | release | os | browser.
CREATE TABLE issue_facets (
    issue_id BIGINT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    count BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (issue_id, facet, value)
);
CREATE INDEX issue_facets_by_value ON issue_facets (facet, value);

-- History shown on the issue page: status changes, regressions, merges, mails.
CREATE TABLE issue_activity (
    id INTEGER PRIMARY KEY,
    issue_id BIGINT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX issue_activity_by_issue ON issue_activity (issue_id, id);
