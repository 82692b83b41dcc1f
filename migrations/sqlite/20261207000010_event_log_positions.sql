-- PostgreSQL numbers its log in commit order with a `position` column from this version on.
-- SQLite has one writer, so its ids are already in commit order and are the log's order: there
-- is nothing to change here, only the version to keep in step.
SELECT 1;
