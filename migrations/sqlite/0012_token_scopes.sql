-- API token scopes: 'read' tokens may only GET; project_ids (comma-separated ids) limits a
-- token to those projects, NULL means every project its user can see.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'write';
ALTER TABLE api_tokens ADD COLUMN project_ids TEXT;
