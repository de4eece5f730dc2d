-- Per-project alert rules. With none, a project's alerts go as before (every channel, mail
-- when SMTP is set, each channel's own filter). With some, only what a rule asks for goes out:
-- events: comma-separated new_issue, regression, seen_again, spike, milestone;
-- spike_count/spike_minutes: "N events in M minutes" (spike rules only);
-- milestones: comma-separated counts (NULL: 10, 100, 1000, ...);
-- filter: a query in the search language, matched against the issue and the triggering event;
-- channels: comma-separated channel ids; mail: 1 to mail the project's recipients too.
CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    events TEXT NOT NULL,
    spike_count BIGINT,
    spike_minutes BIGINT,
    milestones TEXT,
    filter TEXT NOT NULL DEFAULT '',
    channels TEXT NOT NULL DEFAULT '',
    mail BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX alert_rules_by_project ON alert_rules (project_id);

-- Which rule queued an alert (NULL: no rules, today's routing); dedupe_key makes an alert
-- that several instances may detect at once (a spike window) a single row per target.
ALTER TABLE outbox ADD COLUMN rule_id BIGINT;
ALTER TABLE outbox ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX outbox_dedupe ON outbox (dedupe_key);

-- Ownership rules: one text per project, a rule a line (`path:src/payments/** -> ada@example.com`).
CREATE TABLE ownership_rules (
    project_id BIGINT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    rules TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The ownership rule that assigned an issue at creation, as written.
ALTER TABLE issues ADD COLUMN owner_rule TEXT;
-- A mail row for one address only (an issue's owner); NULL: the project's recipients.
ALTER TABLE outbox ADD COLUMN recipient TEXT;
