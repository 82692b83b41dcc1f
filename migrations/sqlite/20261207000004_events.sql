-- Events that organisers put on sale (app/src/domain/event.rs), their sections of seats and
-- their door staff. Times in milliseconds since the epoch, money in cents.
CREATE TABLE events (
    id                 TEXT    NOT NULL PRIMARY KEY,
    slug               TEXT    NOT NULL UNIQUE,
    organiser_id       TEXT    NOT NULL REFERENCES users (id),
    name               TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    category           TEXT    NOT NULL CHECK (category IN ('sports', 'concert', 'theater', 'other')),
    venue              TEXT    NOT NULL CHECK (length(venue) BETWEEN 1 AND 120),
    city               TEXT    NOT NULL DEFAULT '' CHECK (length(city) <= 80),
    time_zone          TEXT    NOT NULL,
    starts_at          INTEGER NOT NULL,
    ends_at            INTEGER,
    -- When it is over: `ends_at`, or six hours after the start.
    over_at            INTEGER NOT NULL,
    -- The date it starts on at the venue (YYYY-MM-DD), and the venue's offset from UTC then in
    -- minutes: what `when=today|weekend|month` is judged by, on each venue's clock.
    local_date         TEXT    NOT NULL,
    utc_offset_minutes INTEGER NOT NULL,
    description        TEXT    NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    image              TEXT,
    status             TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled')),
    cancel_reason      TEXT,
    max_per_buyer      INTEGER NOT NULL DEFAULT 8 CHECK (max_per_buyer BETWEEN 1 AND 20),
    resale_enabled     INTEGER NOT NULL DEFAULT 1 CHECK (resale_enabled IN (0, 1)),
    resale_cap_percent INTEGER,
    version            INTEGER NOT NULL DEFAULT 0,
    published_at       INTEGER,
    cancelled_at       INTEGER,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX events_upcoming  ON events (status, starts_at);
CREATE INDEX events_organiser ON events (organiser_id, created_at DESC);

-- Name, venue and city search: an external-content FTS5 index kept in step by triggers.
CREATE VIRTUAL TABLE events_fts USING fts5 (
    name, venue, city,
    content = 'events',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_fts (rowid, name, venue, city) VALUES (new.rowid, new.name, new.venue, new.city);
END;

CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_fts (events_fts, rowid, name, venue, city) VALUES ('delete', old.rowid, old.name, old.venue, old.city);
END;

CREATE TRIGGER events_fts_update AFTER UPDATE OF name, venue, city ON events BEGIN
    INSERT INTO events_fts (events_fts, rowid, name, venue, city) VALUES ('delete', old.rowid, old.name, old.venue, old.city);
    INSERT INTO events_fts (rowid, name, venue, city) VALUES (new.rowid, new.name, new.venue, new.city);
END;

-- A section (ticket type): general admission (`seat_rows` NULL) or seated (`seat_rows` the JSON list of
-- `{label, seats}`, front to back). `capacity` is the number of its seats either way.
CREATE TABLE event_sections (
    id          TEXT    NOT NULL PRIMARY KEY,
    event_id    TEXT    NOT NULL REFERENCES events (id),
    position    INTEGER NOT NULL,
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    price_cents INTEGER NOT NULL CHECK (price_cents > 0 AND price_cents <= 100000000),
    capacity    INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 50000),
    seat_rows   TEXT    CHECK (seat_rows IS NULL OR json_valid(seat_rows)),
    -- When it was removed from a published event (its unsold seats went with it).
    removed_at  INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX event_sections_event ON event_sections (event_id, position);

-- Who the organiser lets scan codes at this event's door.
CREATE TABLE event_staff (
    event_id TEXT    NOT NULL REFERENCES events (id),
    user_id  TEXT    NOT NULL REFERENCES users (id),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, user_id)
) STRICT;

-- Images, kept in the database so that every node serves them: one row per encoded width,
-- named by the hash of its bytes (served at /media/<id>).
CREATE TABLE media (
    id           TEXT    NOT NULL PRIMARY KEY,
    content_type TEXT    NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    bytes        BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

-- A seat of an event: its event, its section, its label (`Row C, Seat 12`; NULL for general
-- admission) and its place front to back. A listing without an event is an "other listing".
ALTER TABLE tickets ADD COLUMN event_id TEXT REFERENCES events (id);
ALTER TABLE tickets ADD COLUMN section_id TEXT REFERENCES event_sections (id);
ALTER TABLE tickets ADD COLUMN seat TEXT;
ALTER TABLE tickets ADD COLUMN seat_order INTEGER;

-- The front-most free seat of a section; an event's tickets.
CREATE INDEX tickets_section_seats ON tickets (section_id, status, seat_order) WHERE section_id IS NOT NULL;
CREATE INDEX tickets_event ON tickets (event_id) WHERE event_id IS NOT NULL;
