-- How a single session's end was counted (`exited`, `errored`, `abnormal`, `crashed`), on its
-- `end` mark: a later update that ends it worse (an error, then a crash) moves the session
-- from the old count to the new one instead of being ignored. Marks written before this
-- migration have none and are not moved.
ALTER TABLE session_marks ADD COLUMN state TEXT;
