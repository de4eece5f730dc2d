-- Notifications are written here in the same transaction as the event that causes them, so a
-- crash or an SMTP outage delays mail but never loses it. A worker claims rows (a lease in
-- claimed_until, so a crashed instance's claims come back), sends, and marks them sent.
-- kind: new_issue | regression | milestone
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    issue_id BIGINT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    detail TEXT,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    claimed_until BIGINT,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (sent_at, next_attempt_at);
CREATE INDEX outbox_by_note ON outbox (last_error);
CREATE INDEX outbox_by_issue ON outbox (issue_id, sent_at);

-- Extra addresses mailed for a project, besides its members.
CREATE TABLE project_recipients (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    PRIMARY KEY (project_id, email)
);

-- One unsubscribe token per address; unsubscribed_at set once the address opted out; kinds
-- lists the kinds of mail the address wants (comma-separated; NULL: all).
CREATE TABLE mail_subscriptions (
    email TEXT PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    unsubscribed_at BIGINT,
    kinds TEXT
);

-- Set when an ignored issue is un-ignored: its next occurrence mails "seen again".
ALTER TABLE issues ADD COLUMN notify_next BIGINT NOT NULL DEFAULT 0;

-- Occurrences per issue and minute, for spike detection (N in M minutes).
CREATE TABLE issue_minutes (
    issue_id BIGINT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    minute BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (issue_id, minute)
);
