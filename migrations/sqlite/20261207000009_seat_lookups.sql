-- Which of a section's seats are free, asked many times a second in an on-sale: those on sale,
-- and those whose hold has lapsed (`reserved_until` passed), each found by a range of this index
-- without reading the section's other seats.
DROP INDEX tickets_section_seats;
CREATE INDEX tickets_section_seats ON tickets (section_id, status, reserved_until, seat_order)
    WHERE section_id IS NOT NULL;

-- An event's seat counts (its page, and its card in the catalogue) read from the index alone,
-- not from each of its tickets' rows.
DROP INDEX tickets_event;
CREATE INDEX tickets_event ON tickets (event_id, section_id, status, reserved_until, removed_at, resold_from)
    WHERE event_id IS NOT NULL;
