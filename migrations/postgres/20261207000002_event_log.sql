-- The log of domain events is `event_log` from now on: `events` are what organisers put on sale.
ALTER TABLE events RENAME TO event_log;
ALTER INDEX events_aggregate RENAME TO event_log_aggregate;
