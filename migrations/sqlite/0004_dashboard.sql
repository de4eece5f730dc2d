-- Dashboard sign-ins. The cookie holds a random token; only its hash is stored, beside the
-- session's CSRF token, so a leaked database does not let anyone in.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Failed sign-ins per email and per client address, counted across every instance.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);

-- One-time links: the first admin's setup (user_id NULL) and "choose your password" links
-- for users an admin created. Only hashes are stored.
CREATE TABLE password_links (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Triage: who looks after an issue, and when an ignored issue wakes up again
-- (at a time, or once its count reaches snooze_count).
ALTER TABLE issues ADD COLUMN assignee_id BIGINT REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE issues ADD COLUMN snooze_until BIGINT;
ALTER TABLE issues ADD COLUMN snooze_count BIGINT;

-- Issue lists walk one project's issues newest (or oldest, or biggest) first and stop after a
-- page. With status in the middle of the key, the default view (two statuses) had to sort the
-- whole project; status is filtered while walking instead.
DROP INDEX issues_by_last_seen;
DROP INDEX issues_by_first_seen;
DROP INDEX issues_by_count;
CREATE INDEX issues_by_project_last_seen ON issues (project_id, last_seen);
CREATE INDEX issues_by_project_first_seen ON issues (project_id, first_seen);
CREATE INDEX issues_by_project_count ON issues (project_id, count);

-- Sums of an issue's recent hours (trending sort, sparklines, the projects page) read from the
-- index alone.
CREATE INDEX issue_hourly_covering ON issue_hourly (issue_id, hour, count);
