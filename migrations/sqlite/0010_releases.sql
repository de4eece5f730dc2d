-- Releases per project: made by sentry-cli, Bugle's API or the first event naming one.
-- `refs` and `commits` are JSON lists as sentry-cli sends them; `status` open or archived.
CREATE TABLE releases (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    date_started BIGINT,
    date_released BIGINT,
    url TEXT,
    status TEXT NOT NULL DEFAULT 'open',
    refs TEXT,
    commits TEXT,
    commit_count BIGINT NOT NULL DEFAULT 0,
    UNIQUE (project_id, version)
);

-- A release reaching an environment. Rollbar's deploys carry a revision, a user and a
-- status; Sentry's a name, a URL and start/finish times.
CREATE TABLE deploys (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    release_id BIGINT NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
    environment TEXT NOT NULL,
    name TEXT,
    url TEXT,
    date_started BIGINT,
    date_finished BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT,
    comment TEXT,
    status TEXT NOT NULL DEFAULT 'succeeded',
    source TEXT NOT NULL
);
CREATE INDEX deploys_by_release ON deploys (release_id, date_finished);
CREATE INDEX deploys_by_project ON deploys (project_id, date_finished);

-- Which release an issue was first seen in, and what resolves it: "resolved in release R"
-- (events of older releases do not reopen it) or "in the next release" (R not known yet:
-- the next release newer than `resolved_after` becomes R).
ALTER TABLE issues ADD COLUMN first_release TEXT;
ALTER TABLE issues ADD COLUMN resolved_in_release TEXT;
ALTER TABLE issues ADD COLUMN resolved_next INTEGER NOT NULL DEFAULT 0;
ALTER TABLE issues ADD COLUMN resolved_after TEXT;
CREATE INDEX issues_by_first_release ON issues (project_id, first_release);
CREATE INDEX issues_resolved_next ON issues (project_id) WHERE resolved_next = 1;
