-- Events that organisers put on sale (app/src/domain/event.rs), their sections of seats and
-- their door staff. Times in milliseconds since the epoch, money in cents.
CREATE TABLE events (
    id                 TEXT    NOT NULL PRIMARY KEY,
    slug               TEXT    NOT NULL UNIQUE,
    organiser_id       TEXT    NOT NULL REFERENCES users (id),
    name               TEXT    NOT NULL CHECK (char_length(name) BETWEEN 1 AND 120),
    category           TEXT    NOT NULL CHECK (category IN ('sports', 'concert', 'theater', 'other')),
    venue              TEXT    NOT NULL CHECK (char_length(venue) BETWEEN 1 AND 120),
    city               TEXT    NOT NULL DEFAULT '' CHECK (char_length(city) <= 80),
    time_zone          TEXT    NOT NULL,
    starts_at          BIGINT NOT NULL,
    ends_at            BIGINT,
    -- When it is over: `ends_at`, or six hours after the start.
    over_at            BIGINT NOT NULL,
    -- The date it starts on at the venue (YYYY-MM-DD), and the venue's offset from UTC then in
    -- minutes: what `when=today|weekend|month` is judged by, on each venue's clock.
    local_date         TEXT    NOT NULL,
    utc_offset_minutes BIGINT NOT NULL,
    description        TEXT    NOT NULL DEFAULT '' CHECK (char_length(description) <= 5000),
    image              TEXT,
    status             TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled')),
    cancel_reason      TEXT,
    max_per_buyer      BIGINT NOT NULL DEFAULT 8 CHECK (max_per_buyer BETWEEN 1 AND 20),
    resale_enabled     BIGINT NOT NULL DEFAULT 1 CHECK (resale_enabled IN (0, 1)),
    resale_cap_percent BIGINT,
    version            BIGINT NOT NULL DEFAULT 0,
    published_at       BIGINT,
    cancelled_at       BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE INDEX events_upcoming  ON events (status, starts_at);
CREATE INDEX events_organiser ON events (organiser_id, created_at DESC);

-- Name, venue and city search: every word of them, kept by the database itself.
ALTER TABLE events ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', name || ' ' || venue || ' ' || city)) STORED;
CREATE INDEX events_search ON events USING GIN (search);

-- A section (ticket type): general admission (`seat_rows` NULL) or seated (`seat_rows` the JSON list of
-- `{label, seats}`, front to back). `capacity` is the number of its seats either way.
CREATE TABLE event_sections (
    id          TEXT    NOT NULL PRIMARY KEY,
    event_id    TEXT    NOT NULL REFERENCES events (id),
    position    BIGINT NOT NULL,
    name        TEXT    NOT NULL CHECK (char_length(name) BETWEEN 1 AND 60),
    price_cents BIGINT NOT NULL CHECK (price_cents > 0 AND price_cents <= 100000000),
    capacity    BIGINT NOT NULL CHECK (capacity BETWEEN 1 AND 50000),
    seat_rows   TEXT    CHECK (seat_rows IS NULL OR seat_rows::jsonb IS NOT NULL),
    -- When it was removed from a published event (its unsold seats went with it).
    removed_at  BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE INDEX event_sections_event ON event_sections (event_id, position);

-- Who the organiser lets scan codes at this event's door.
CREATE TABLE event_staff (
    event_id TEXT    NOT NULL REFERENCES events (id),
    user_id  TEXT    NOT NULL REFERENCES users (id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (event_id, user_id)
);

-- Images, kept in the database so that every node serves them: one row per encoded width,
-- named by the hash of its bytes (served at /media/<id>).
CREATE TABLE media (
    id           TEXT    NOT NULL PRIMARY KEY,
    content_type TEXT    NOT NULL,
    width        BIGINT NOT NULL,
    height       BIGINT NOT NULL,
    bytes        BYTEA   NOT NULL,
    created_at   BIGINT NOT NULL
);

-- A seat of an event: its event, its section, its label (`Row C, Seat 12`; NULL for general
-- admission) and its place front to back. A listing without an event is an "other listing".
ALTER TABLE tickets ADD COLUMN event_id TEXT REFERENCES events (id);
ALTER TABLE tickets ADD COLUMN section_id TEXT REFERENCES event_sections (id);
ALTER TABLE tickets ADD COLUMN seat TEXT;
ALTER TABLE tickets ADD COLUMN seat_order BIGINT;

-- The front-most free seat of a section; an event's tickets.
CREATE INDEX tickets_section_seats ON tickets (section_id, status, seat_order) WHERE section_id IS NOT NULL;
CREATE INDEX tickets_event ON tickets (event_id) WHERE event_id IS NOT NULL;
