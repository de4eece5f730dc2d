-- Release health from Sentry `session` and `sessions` items: counters per release,
-- environment, hour (unix ms of its start) and status. `started` counts sessions; `exited`,
-- `errored`, `abnormal` and `crashed` count how they ended. Written with `count = count + n`.
CREATE TABLE release_sessions (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    release TEXT NOT NULL,
    environment TEXT NOT NULL,
    hour BIGINT NOT NULL,
    status TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (project_id, release, environment, hour, status)
);

-- Distinct users (`did`) per release and environment, and whether one of their sessions crashed.
CREATE TABLE release_users (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    release TEXT NOT NULL,
    environment TEXT NOT NULL,
    did TEXT NOT NULL,
    crashed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, release, environment, did)
);

-- Which single sessions were already counted as started (`init`) and as ended, so an update
-- sent twice (a retry, an SDK resending its final state) counts once. Kept 5 days, the time
-- Sentry lets a session be updated.
CREATE TABLE session_marks (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    sid TEXT NOT NULL,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (project_id, sid, kind)
);
CREATE INDEX session_marks_by_time ON session_marks (at);
