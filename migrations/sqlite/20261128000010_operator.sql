-- The operator's console (see app/src/domain/audit.rs and docs/RULES.md, "Running the
-- marketplace"): taken-down listings, suspended accounts, held payouts, and the audit log.

-- A listing an admin took down: off sale for good, with the reason the seller was given.
ALTER TABLE tickets ADD COLUMN removed_at INTEGER;
ALTER TABLE tickets ADD COLUMN removed_reason TEXT;
-- 1 while the seller is suspended: the listing is off sale until the suspension is lifted.
ALTER TABLE tickets ADD COLUMN seller_suspended INTEGER NOT NULL DEFAULT 0 CHECK (seller_suspended IN (0, 1));

-- A suspended account cannot sign in and its unsold listings are off sale until lifted.
ALTER TABLE users ADD COLUMN suspended_at INTEGER;
ALTER TABLE users ADD COLUMN suspended_reason TEXT;
-- A seller whose payouts an admin holds: earnings still release, nothing is sent.
ALTER TABLE users ADD COLUMN payouts_held_at INTEGER;

-- Every admin action: who (NULL for the command line), what, on what, why, when.
CREATE TABLE audit_log (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    actor_id    TEXT    REFERENCES users (id),
    action      TEXT    NOT NULL,
    target_type TEXT    NOT NULL,
    target_id   TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);

-- Append-only: no code path changes or removes an entry, and the database refuses to.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
