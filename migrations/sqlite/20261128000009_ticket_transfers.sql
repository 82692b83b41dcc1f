-- A holder giving a ticket to someone by email (see app/src/ssr/services/transfers.rs). To an
-- existing account it completes at once; to an unknown address it waits (`pending`) until an
-- account is made with that address, or the sender cancels. One pending transfer per ticket.
CREATE TABLE ticket_transfers (
    id           TEXT    NOT NULL PRIMARY KEY,
    ticket_id    TEXT    NOT NULL REFERENCES tickets (id),
    sender_id    TEXT    NOT NULL REFERENCES users (id),
    email        TEXT    NOT NULL,
    recipient_id TEXT    REFERENCES users (id),
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'completed', 'cancelled')),
    created_at   INTEGER NOT NULL,
    settled_at   INTEGER
) STRICT;

CREATE UNIQUE INDEX ticket_transfers_one_pending_per_ticket ON ticket_transfers (ticket_id) WHERE status = 'pending';
CREATE INDEX ticket_transfers_pending_by_email ON ticket_transfers (email) WHERE status = 'pending';
