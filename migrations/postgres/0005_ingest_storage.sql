-- Event bodies arrive zstd-compressed: PostgreSQL's own compression (pglz) only burnt CPU on
-- them, and moving every body over 2 KB to the TOAST table cost a second table and index
-- insert per chunk. Rows up to a page now stay inline, uncompressed by PostgreSQL.
ALTER TABLE occurrences ALTER COLUMN event SET STORAGE EXTERNAL;
ALTER TABLE occurrences ALTER COLUMN raw SET STORAGE EXTERNAL;
ALTER TABLE occurrences SET (toast_tuple_target = 8160);
