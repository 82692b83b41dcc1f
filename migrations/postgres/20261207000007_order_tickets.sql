-- The tickets of an order (§16 "Several seats in one order"): one row per seat or resale
-- listing, in seat order, each with its price and fees as fixed at reservation (fees are
-- computed and rounded per ticket). `orders.ticket_id` stays the first of them, and the
-- order's price and fees are their sums. A ticket is held by at most one order at a time:
-- its own row names the order (`tickets.order_id`), taken by a conditional update.
CREATE TABLE order_tickets (
    order_id         TEXT    NOT NULL REFERENCES orders (id),
    position         BIGINT  NOT NULL CHECK (position >= 0),
    ticket_id        TEXT    NOT NULL REFERENCES tickets (id),
    price_cents      BIGINT  NOT NULL CHECK (price_cents > 0),
    buyer_fee_cents  BIGINT  NOT NULL,
    seller_fee_cents BIGINT  NOT NULL,
    PRIMARY KEY (order_id, position),
    UNIQUE (order_id, ticket_id)
);

-- "Which orders held this ticket?" (refunds, the attendee list, the per-buyer count).
CREATE INDEX order_tickets_by_ticket ON order_tickets (ticket_id);

-- Every order so far held one ticket.
INSERT INTO order_tickets (order_id, position, ticket_id, price_cents, buyer_fee_cents, seller_fee_cents)
SELECT id, 0, ticket_id, price_cents, buyer_fee_cents, seller_fee_cents FROM orders;

-- A sale's earning is per ticket, each credited to its own seller: an order may hold the
-- organiser's seats and resale listings of one event.
ALTER TABLE earnings DROP CONSTRAINT earnings_pkey;
ALTER TABLE earnings ADD PRIMARY KEY (order_id, ticket_id);

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
