-- The operator's console (see app/src/domain/audit.rs and docs/RULES.md, "Running the
-- marketplace"): taken-down listings, suspended accounts, held payouts, and the audit log.

-- A listing an admin took down: off sale for good, with the reason the seller was given.
ALTER TABLE tickets ADD COLUMN removed_at BIGINT;
ALTER TABLE tickets ADD COLUMN removed_reason TEXT;
-- 1 while the seller is suspended: the listing is off sale until the suspension is lifted.
ALTER TABLE tickets ADD COLUMN seller_suspended BIGINT NOT NULL DEFAULT 0 CHECK (seller_suspended IN (0, 1));

-- A suspended account cannot sign in and its unsold listings are off sale until lifted.
ALTER TABLE users ADD COLUMN suspended_at BIGINT;
ALTER TABLE users ADD COLUMN suspended_reason TEXT;
-- A seller whose payouts an admin holds: earnings still release, nothing is sent.
ALTER TABLE users ADD COLUMN payouts_held_at BIGINT;

-- Every admin action: who (NULL for the command line), what, on what, why, when.
CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id    TEXT   REFERENCES users (id),
    action      TEXT   NOT NULL,
    target_type TEXT   NOT NULL,
    target_id   TEXT   NOT NULL,
    reason      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);

-- Append-only: no code path changes or removes an entry, and the database refuses to.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
