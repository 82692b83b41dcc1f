-- Domain events, appended in the same transaction as the change they describe.
CREATE TABLE events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type   TEXT   NOT NULL,
    aggregate_id TEXT   NOT NULL,
    payload      TEXT   NOT NULL CHECK (payload::jsonb IS NOT NULL),
    created_at   BIGINT NOT NULL
);

CREATE INDEX events_aggregate ON events (aggregate_id, id);
