-- Per-issue counters are updated by every ingest batch. As rowid tables with a primary key
-- (and, for hourly, a covering index) each update dirtied up to three B-tree pages per issue;
-- keyed by their primary key alone it is one. The rows are copied as they are.
CREATE TABLE issue_hourly_new (
    issue_id BIGINT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    hour BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (issue_id, hour)
) WITHOUT ROWID;
INSERT INTO issue_hourly_new (issue_id, hour, count) SELECT issue_id, hour, count FROM issue_hourly;
DROP TABLE issue_hourly;
ALTER TABLE issue_hourly_new RENAME TO issue_hourly;

CREATE TABLE issue_minutes_new (
    issue_id BIGINT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    minute BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (issue_id, minute)
) WITHOUT ROWID;
INSERT INTO issue_minutes_new (issue_id, minute, count)
    SELECT issue_id, minute, count FROM issue_minutes;
DROP TABLE issue_minutes;
ALTER TABLE issue_minutes_new RENAME TO issue_minutes;

CREATE TABLE issue_facets_new (
    issue_id BIGINT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    count BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (issue_id, facet, value)
) WITHOUT ROWID;
INSERT INTO issue_facets_new (issue_id, facet, value, count, last_seen)
    SELECT issue_id, facet, value, count, last_seen FROM issue_facets;
DROP TABLE issue_facets;
ALTER TABLE issue_facets_new RENAME TO issue_facets;
CREATE INDEX issue_facets_by_value ON issue_facets (facet, value);
