-- The tickets of an order (§16 "Several seats in one order"): one row per seat or resale
-- listing, in seat order, each with its price and fees as fixed at reservation (fees are
-- computed and rounded per ticket). `orders.ticket_id` stays the first of them, and the
-- order's price and fees are their sums. A ticket is held by at most one order at a time:
-- its own row names the order (`tickets.order_id`), taken by a conditional update.
CREATE TABLE order_tickets (
    order_id         TEXT    NOT NULL REFERENCES orders (id),
    position         INTEGER NOT NULL CHECK (position >= 0),
    ticket_id        TEXT    NOT NULL REFERENCES tickets (id),
    price_cents      INTEGER NOT NULL CHECK (price_cents > 0),
    buyer_fee_cents  INTEGER NOT NULL,
    seller_fee_cents INTEGER NOT NULL,
    PRIMARY KEY (order_id, position),
    UNIQUE (order_id, ticket_id)
) STRICT;

-- "Which orders held this ticket?" (refunds, the attendee list, the per-buyer count).
CREATE INDEX order_tickets_by_ticket ON order_tickets (ticket_id);

-- Every order so far held one ticket.
INSERT INTO order_tickets (order_id, position, ticket_id, price_cents, buyer_fee_cents, seller_fee_cents)
SELECT id, 0, ticket_id, price_cents, buyer_fee_cents, seller_fee_cents FROM orders;

-- A sale's earning is per ticket, each credited to its own seller: an order may hold the
-- organiser's seats and resale listings of one event. SQLite cannot change a primary key in
-- place, so the table is copied into its new shape.
CREATE TABLE earnings_per_ticket (
    order_id    TEXT    NOT NULL REFERENCES orders (id),
    seller_id   TEXT    NOT NULL REFERENCES users (id),
    ticket_id   TEXT    NOT NULL REFERENCES tickets (id),
    net_cents   INTEGER NOT NULL,
    release_at  INTEGER NOT NULL,
    released_at INTEGER,
    payout_id   TEXT    REFERENCES payouts (id),
    reversed_at INTEGER,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (order_id, ticket_id)
) STRICT;

INSERT INTO earnings_per_ticket (order_id, seller_id, ticket_id, net_cents, release_at, released_at,
    payout_id, reversed_at, created_at)
SELECT order_id, seller_id, ticket_id, net_cents, release_at, released_at, payout_id, reversed_at,
    created_at FROM earnings;

DROP TABLE earnings;
ALTER TABLE earnings_per_ticket RENAME TO earnings;

CREATE INDEX earnings_due ON earnings (release_at) WHERE released_at IS NULL AND reversed_at IS NULL;
CREATE INDEX earnings_by_seller ON earnings (seller_id, created_at);
CREATE INDEX earnings_by_payout ON earnings (payout_id) WHERE payout_id IS NOT NULL;

-- The ledger too: a sale, a release and a refund are one transaction per ticket of an order.
ALTER TABLE ledger_transactions ADD COLUMN ticket_id TEXT REFERENCES tickets (id);
UPDATE ledger_transactions SET ticket_id = (SELECT o.ticket_id FROM orders o WHERE o.id = ledger_transactions.order_id)
    WHERE order_id IS NOT NULL;
DROP INDEX ledger_one_sale_per_order;
DROP INDEX ledger_one_release_per_order;
DROP INDEX ledger_one_refund_per_order;
CREATE UNIQUE INDEX ledger_one_sale_per_ticket ON ledger_transactions (order_id, ticket_id) WHERE kind = 'sale';
CREATE UNIQUE INDEX ledger_one_release_per_ticket ON ledger_transactions (order_id, ticket_id) WHERE kind = 'release';
CREATE UNIQUE INDEX ledger_one_refund_per_ticket ON ledger_transactions (order_id, ticket_id) WHERE kind = 'refund';
