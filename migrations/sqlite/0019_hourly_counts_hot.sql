-- Nothing on SQLite: it updates rows in place, and reads an issue's hours from the covering
-- index issue_hourly_covering (see the PostgreSQL migration of this number).
SELECT 1;
