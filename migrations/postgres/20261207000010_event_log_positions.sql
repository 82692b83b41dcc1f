-- The log's order on PostgreSQL: `position`, given in commit order by whoever reads the log next
-- (`storage::event_log::number_new_events`), instead of a turn every writing transaction waited
-- for from its first event to its commit. An event not yet numbered is not yet readable in order.
ALTER TABLE event_log ADD COLUMN position BIGINT;
UPDATE event_log SET position = id;
CREATE UNIQUE INDEX event_log_position ON event_log (position);
CREATE INDEX event_log_unnumbered ON event_log (id) WHERE position IS NULL;
