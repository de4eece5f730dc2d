-- Per-project settings; NULL means "no limit" / "the server default".
ALTER TABLE projects ADD COLUMN rate_limit_per_minute BIGINT;
ALTER TABLE projects ADD COLUMN retention_days BIGINT;
ALTER TABLE projects ADD COLUMN max_occurrences_per_issue BIGINT;
