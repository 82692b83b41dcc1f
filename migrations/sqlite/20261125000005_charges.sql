-- Payments. A charge is recorded (`created`) and committed before the payment provider is
-- called, then settles as `completed`, `failed` or — money that arrived for an order that was
-- no longer live — `refunded`. The database allows one completed and one in-flight charge per
-- order, so a double click or a repeated webhook can never take money twice.
CREATE TABLE charges (
    id               TEXT    NOT NULL PRIMARY KEY,
    order_id         TEXT    NOT NULL REFERENCES orders (id),
    status           TEXT    NOT NULL CHECK (status IN ('created', 'failed', 'completed', 'refunded')),
    amount_cents     INTEGER NOT NULL CHECK (amount_cents > 0),
    currency         TEXT    NOT NULL,
    idempotency_key  TEXT    NOT NULL,
    stripe_id        TEXT,
    stripe_refund_id TEXT,
    failure_message  TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX charges_one_completed_per_order ON charges (order_id) WHERE status = 'completed';
CREATE UNIQUE INDEX charges_one_in_flight_per_order ON charges (order_id) WHERE status = 'created';
CREATE INDEX charges_by_order ON charges (order_id, created_at);
CREATE UNIQUE INDEX charges_by_stripe_id ON charges (stripe_id) WHERE stripe_id IS NOT NULL;

-- Stripe webhook events already applied: each event id is applied once, however often Stripe
-- delivers it.
CREATE TABLE stripe_events (
    id          TEXT    NOT NULL PRIMARY KEY,
    event_type  TEXT    NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;

-- A sold ticket belongs to its buyer, who gets an unguessable code (shown as a QR code) to
-- enter the event with, and may resell it once as a new listing.
ALTER TABLE tickets ADD COLUMN owner_id TEXT REFERENCES users (id);
ALTER TABLE tickets ADD COLUMN ticket_code TEXT;
CREATE UNIQUE INDEX tickets_by_code ON tickets (ticket_code) WHERE ticket_code IS NOT NULL;
CREATE INDEX tickets_by_owner ON tickets (owner_id, updated_at DESC) WHERE owner_id IS NOT NULL;
CREATE UNIQUE INDEX tickets_resold_once ON tickets (resold_from) WHERE resold_from IS NOT NULL;
