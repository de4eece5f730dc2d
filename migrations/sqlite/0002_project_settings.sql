-- Per-project settings; NULL means "no limit" / "the server default".
ALTER TABLE projects ADD COLUMN rate_limit_per_minute BIGINT;
ALTER TABLE projects ADD COLUMN retention_days BIGINT;
ALTER TABLE projects ADD COLUMN max_occurrences_per_issue BIGINT;

-- Retention deletes the oldest occurrences of a project without scanning the table.
CREATE INDEX occurrences_by_age ON occurrences (project_id, received_at);
