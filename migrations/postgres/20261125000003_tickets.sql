-- Listings. Money in cents. `status` is what was last written; a `reserved` row whose
-- `reserved_until` has passed is available again (readers check the time, a sweeper rewrites it).
CREATE TABLE tickets (
    id             TEXT   NOT NULL PRIMARY KEY,
    title          TEXT   NOT NULL CHECK (char_length(title) BETWEEN 1 AND 120),
    price_cents    BIGINT NOT NULL CHECK (price_cents > 0 AND price_cents <= 100000000),
    user_id        TEXT   NOT NULL REFERENCES users (id),
    order_id       TEXT,
    version        BIGINT NOT NULL DEFAULT 0,
    category       TEXT   NOT NULL CHECK (category IN ('sports', 'concert', 'theater', 'other')),
    venue          TEXT,
    starts_at      BIGINT,
    status         TEXT   NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'reserved', 'sold')),
    reserved_until BIGINT,
    resold_from    TEXT   REFERENCES tickets (id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    -- Title search: every word of the title, kept by the database itself.
    search         tsvector GENERATED ALWAYS AS (to_tsvector('simple', title)) STORED
);

-- The browse page: unsold listings by newest, event date, or price, optionally in one category.
CREATE INDEX tickets_browse_new   ON tickets (created_at DESC) WHERE status <> 'sold';
CREATE INDEX tickets_browse_date  ON tickets (starts_at, created_at) WHERE status <> 'sold';
CREATE INDEX tickets_browse_price ON tickets (price_cents, created_at) WHERE status <> 'sold';
CREATE INDEX tickets_category_new ON tickets (category, created_at DESC) WHERE status <> 'sold';
CREATE INDEX tickets_seller       ON tickets (user_id, created_at DESC);
CREATE INDEX tickets_search       ON tickets USING GIN (search);
