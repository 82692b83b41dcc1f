-- Mail waiting to be delivered. A message is inserted in the same transaction as the change
-- that causes it, and the delivery worker claims due messages with a lease, so a crash or an
-- SMTP outage loses none. Delivered messages keep their envelope; their bodies (which may hold
-- single-use links) are cleared.
CREATE TABLE outbox (
    id              TEXT    NOT NULL PRIMARY KEY,
    kind            TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    text_body       TEXT    NOT NULL,
    html_body       TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    leased_until    INTEGER,
    sent_at         INTEGER,
    failed_at       INTEGER,
    last_error      TEXT
) STRICT;

CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;
