-- Alert and ownership rules are kept per process with the version they were read at; every
-- change of a project's rules moves this in its transaction, and the ingest commit reads it
-- with the counters it updates anyway (`store::project_rules`).
ALTER TABLE projects ADD COLUMN rules_version BIGINT NOT NULL DEFAULT 0;
