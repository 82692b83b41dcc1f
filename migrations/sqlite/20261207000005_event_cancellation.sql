-- Cancelling an event refunds every completed order of its tickets through the gateway, one
-- order at a time, by a background job that may stop at any moment and run on every node:
-- one row per order, `pending` until its refund is recorded, then `done`. A node claims a row
-- until `claimed_until` (another node may take it over once that has passed); the gateway's
-- refund is keyed by the charge, so a refund asked for twice is made once.
CREATE TABLE cancellation_refunds (
    order_id      TEXT    PRIMARY KEY REFERENCES orders (id),
    event_id      TEXT    NOT NULL REFERENCES events (id),
    status        TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    attempts      BIGINT  NOT NULL DEFAULT 0,
    claimed_until BIGINT,
    last_error    TEXT,
    created_at    BIGINT  NOT NULL,
    done_at       BIGINT
);
CREATE INDEX cancellation_refunds_pending ON cancellation_refunds (created_at, order_id) WHERE status = 'pending';
CREATE INDEX cancellation_refunds_by_event ON cancellation_refunds (event_id, status);
