-- Venue time zones (see app/src/domain/zone.rs): the IANA name of the zone a listing's event
-- time is entered and shown in. NULL for listings from before zones: shown in UTC, labelled so.
ALTER TABLE tickets ADD COLUMN time_zone TEXT;
