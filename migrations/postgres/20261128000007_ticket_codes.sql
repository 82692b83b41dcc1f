-- Entry codes, one row per code ever issued (see app/src/domain/custody.rs). A seat — a listing
-- and its chain of resales, named by the first listing's id — has at most one valid code, which
-- the database itself guards: a resale, a transfer or a refund revokes the holder's code in the
-- same transaction that issues the next one.
CREATE TABLE ticket_codes (
    code        TEXT    NOT NULL PRIMARY KEY,
    ticket_id   TEXT    NOT NULL REFERENCES tickets (id),
    seat_id     TEXT    NOT NULL REFERENCES tickets (id),
    holder_id   TEXT    NOT NULL REFERENCES users (id),
    status      TEXT    NOT NULL CHECK (status IN ('valid', 'used', 'revoked')),
    revoked_why TEXT    CHECK (revoked_why IN ('resold', 'transferred', 'refunded')),
    issued_at   BIGINT NOT NULL,
    used_at     BIGINT,
    used_by     TEXT    REFERENCES users (id),
    revoked_at  BIGINT
);

CREATE UNIQUE INDEX ticket_codes_one_valid_per_seat ON ticket_codes (seat_id) WHERE status = 'valid';
CREATE INDEX ticket_codes_by_holder ON ticket_codes (holder_id, issued_at);
CREATE INDEX ticket_codes_by_ticket ON ticket_codes (ticket_id);

-- The codes issued so far lived on their tickets. Each becomes a row; a code whose ticket was
-- resold (a resale of it was bought) is revoked, so every seat keeps one valid code.
WITH RECURSIVE chain (id, seat) AS (
    SELECT id, id FROM tickets WHERE resold_from IS NULL
    UNION ALL
    SELECT t.id, chain.seat FROM tickets t JOIN chain ON t.resold_from = chain.id
)
INSERT INTO ticket_codes (code, ticket_id, seat_id, holder_id, status, revoked_why, issued_at, revoked_at)
SELECT t.ticket_code, t.id, chain.seat, t.owner_id,
       CASE WHEN r.id IS NULL THEN 'valid' ELSE 'revoked' END,
       CASE WHEN r.id IS NULL THEN NULL ELSE 'resold' END,
       t.updated_at,
       r.updated_at
FROM tickets t
JOIN chain ON chain.id = t.id
LEFT JOIN tickets r ON r.resold_from = t.id AND r.ticket_code IS NOT NULL
WHERE t.ticket_code IS NOT NULL AND t.owner_id IS NOT NULL;
