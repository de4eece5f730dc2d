-- Saved searches: a user's own (shared = 0) or shared with everyone who sees the project; a
-- user's default opens their list (project_id NULL: the list across projects).
CREATE TABLE saved_searches (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id BIGINT REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    shared BIGINT NOT NULL DEFAULT 0,
    is_default BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX saved_searches_by_user ON saved_searches (user_id);
CREATE INDEX saved_searches_by_project ON saved_searches (project_id);
