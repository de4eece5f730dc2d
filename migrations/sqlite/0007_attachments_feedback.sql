-- Files sent with an event (minidumps, screenshots, logs), zstd-compressed; deleted with their
-- occurrence. `size` is the file as sent, `stored_size` what it takes here.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    occurrence_id BIGINT NOT NULL REFERENCES occurrences(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT,
    attachment_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    stored_size BIGINT NOT NULL,
    data BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_by_occurrence ON attachments (occurrence_id);
CREATE INDEX attachments_by_project ON attachments (project_id);

-- What users said about an error (Sentry user reports and feedback). The event it is about
-- may arrive before or after it, or never; issue_id is filled when the event is known.
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    event_uuid TEXT,
    issue_id BIGINT REFERENCES issues(id) ON DELETE SET NULL,
    name TEXT,
    email TEXT,
    comments TEXT NOT NULL,
    url TEXT,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX feedback_by_project ON feedback (project_id, created_at);
CREATE INDEX feedback_by_event ON feedback (project_id, event_uuid);
CREATE INDEX feedback_by_issue ON feedback (issue_id);
