-- Faster browsing: the "event date" sort orders by `starts_at IS NULL, starts_at`, which only an
-- index on that same expression can serve; and counting what is on sale reads only these narrow
-- indexes instead of every ticket row.
DROP INDEX tickets_browse_date;
CREATE INDEX tickets_browse_date ON tickets ((starts_at IS NULL), starts_at, created_at) WHERE status <> 'sold';
CREATE INDEX tickets_on_sale ON tickets (status, reserved_until, starts_at) WHERE status <> 'sold';
CREATE INDEX tickets_on_sale_by_category ON tickets (category, status, reserved_until, starts_at) WHERE status <> 'sold';
