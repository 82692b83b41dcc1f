-- Listings. Money in cents. `status` is what was last written; a `reserved` row whose
-- `reserved_until` has passed is available again (readers check the time, a sweeper rewrites it).
CREATE TABLE tickets (
    id             TEXT    NOT NULL PRIMARY KEY,
    title          TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    price_cents    INTEGER NOT NULL CHECK (price_cents > 0 AND price_cents <= 100000000),
    user_id        TEXT    NOT NULL REFERENCES users (id),
    order_id       TEXT,
    version        INTEGER NOT NULL DEFAULT 0,
    category       TEXT    NOT NULL CHECK (category IN ('sports', 'concert', 'theater', 'other')),
    venue          TEXT,
    starts_at      INTEGER,
    status         TEXT    NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'reserved', 'sold')),
    reserved_until INTEGER,
    resold_from    TEXT    REFERENCES tickets (id),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

-- The browse page: unsold listings by newest, event date, or price, optionally in one category.
CREATE INDEX tickets_browse_new   ON tickets (created_at DESC) WHERE status <> 'sold';
CREATE INDEX tickets_browse_date  ON tickets (starts_at, created_at) WHERE status <> 'sold';
CREATE INDEX tickets_browse_price ON tickets (price_cents, created_at) WHERE status <> 'sold';
CREATE INDEX tickets_category_new ON tickets (category, created_at DESC) WHERE status <> 'sold';
CREATE INDEX tickets_seller       ON tickets (user_id, created_at DESC);

-- Title search: an external-content FTS5 index kept in step by triggers.
CREATE VIRTUAL TABLE tickets_fts USING fts5 (
    title,
    content = 'tickets',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_fts (rowid, title) VALUES (new.rowid, new.title);
END;

CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
END;

CREATE TRIGGER tickets_fts_update AFTER UPDATE OF title ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
    INSERT INTO tickets_fts (rowid, title) VALUES (new.rowid, new.title);
END;
