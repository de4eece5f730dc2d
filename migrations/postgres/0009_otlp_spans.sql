-- OpenTelemetry spans are counted, not stored: per service and hour, its spans and those with
-- status ERROR; calls from one service to another (a CLIENT or PRODUCER span whose SERVER or
-- CONSUMER child belongs to another service) per hour. hour: unix ms at the start of the hour.
-- Instances add to the same rows (ON CONFLICT DO UPDATE ... + excluded).
CREATE TABLE service_hours (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    hour BIGINT NOT NULL,
    spans BIGINT NOT NULL DEFAULT 0,
    error_spans BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, service, hour)
);
CREATE TABLE service_edges (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    caller TEXT NOT NULL,
    callee TEXT NOT NULL,
    hour BIGINT NOT NULL,
    calls BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, caller, callee, hour)
);

-- An occurrence's trace id (lowercase hex, whatever protocol brought it), so the occurrence
-- page lists the other errors of its trace across projects without reading events.
ALTER TABLE occurrences ADD COLUMN trace_id TEXT;
CREATE INDEX occurrences_by_trace ON occurrences (trace_id) WHERE trace_id IS NOT NULL;
