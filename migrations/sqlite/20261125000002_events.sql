-- Domain events, appended in the same transaction as the change they describe.
CREATE TABLE events (
    id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    event_type   TEXT    NOT NULL,
    aggregate_id TEXT    NOT NULL,
    payload      TEXT    NOT NULL CHECK (json_valid(payload)),
    created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX events_aggregate ON events (aggregate_id, id);
