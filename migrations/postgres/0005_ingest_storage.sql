-- Event bodies arrive zstd-compressed: PostgreSQL's own compression (pglz) only burnt CPU on
-- them, and moving every body over 2 KB to the TOAST table cost a second table and index
-- insert per chunk. Rows up to a page now stay inline, uncompressed by PostgreSQL.
ALTER TABLE occurrences ALTER COLUMN event SET STORAGE EXTERNAL;
ALTER TABLE occurrences ALTER COLUMN raw SET STORAGE EXTERNAL;
ALTER TABLE occurrences SET (toast_tuple_target = 8160);

-- Every inserted occurrence ran a foreign-key check on its project (a query and a KEY SHARE
-- lock on the project row, shared by every concurrent batch); its issue's key already ties
-- it to the project, and deleting a project deletes its issues and so their occurrences.
ALTER TABLE occurrences DROP CONSTRAINT occurrences_project_id_fkey;
