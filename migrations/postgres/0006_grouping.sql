-- Grouping v2: per-project grouping rules (fingerprint and stack rules, as typed in settings).
ALTER TABLE projects ADD COLUMN grouping_rules TEXT;
