-- A ticket of a paid order can be refunded on its own (an operator's refund of one ticket):
-- `refunded_at` says when. `holds` is 1 while the order holds the ticket (live, or paid and the
-- ticket not refunded) and NULL after, and the database's guard of one order per ticket moves
-- here: the guard on `orders.ticket_id` saw only an order's first ticket, and would keep a
-- refunded first ticket from being sold again while its order stands.
ALTER TABLE order_tickets ADD COLUMN refunded_at BIGINT;
ALTER TABLE order_tickets ADD COLUMN holds BIGINT CHECK (holds IS NULL OR holds = 1);

UPDATE order_tickets SET holds = 1
    WHERE order_id IN (SELECT id FROM orders WHERE status IN ('created', 'awaiting:payment', 'complete'));

CREATE UNIQUE INDEX order_tickets_one_live_per_ticket ON order_tickets (ticket_id) WHERE holds = 1;
DROP INDEX orders_one_live_per_ticket;
