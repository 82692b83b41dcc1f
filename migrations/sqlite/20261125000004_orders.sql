-- Orders: a buyer's reservation of one ticket. `price_cents` is the ticket's price when it was
-- reserved (what the buyer pays); `expires_at` ends the hold. A live order whose `expires_at`
-- has passed holds nothing: readers check the time, a sweeper rewrites it to `cancelled`.
CREATE TABLE orders (
    id          TEXT    NOT NULL PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id),
    ticket_id   TEXT    NOT NULL REFERENCES tickets (id),
    status      TEXT    NOT NULL CHECK (status IN ('created', 'awaiting:payment', 'complete', 'cancelled')),
    price_cents INTEGER NOT NULL CHECK (price_cents > 0),
    expires_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- The database's own guard: at most one live (or completed) order per ticket. A reservation
-- first cancels a lapsed one inside the same write transaction, then inserts.
CREATE UNIQUE INDEX orders_one_live_per_ticket ON orders (ticket_id)
    WHERE status IN ('created', 'awaiting:payment', 'complete');

-- "My orders", newest first.
CREATE INDEX orders_by_buyer ON orders (user_id, created_at DESC);

-- The sweeper's question: which live orders have run out?
CREATE INDEX orders_live_by_expiry ON orders (expires_at)
    WHERE status IN ('created', 'awaiting:payment');
