-- Accounts a person can recover.
--
-- When the address was last proven to be the user's (a verification link followed); NULL
-- until then.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

-- Single-use links sent by mail: the token itself is only ever in the message, the database
-- keeps its SHA-256. `email` is the address the link was sent to: the current address for
-- `verify` and `reset`, the new one for `email` (a change of address).
CREATE TABLE user_tokens (
    token_hash TEXT   NOT NULL PRIMARY KEY,
    user_id    TEXT   NOT NULL REFERENCES users (id),
    purpose    TEXT   NOT NULL CHECK (purpose IN ('verify', 'reset', 'email')),
    email      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE INDEX user_tokens_by_user ON user_tokens (user_id, purpose);

-- Requests that send mail to an address someone typed (password resets), kept an hour so one
-- address gets a bounded number of messages whoever asks, on any node.
CREATE TABLE mail_requests (
    email        TEXT   NOT NULL,
    purpose      TEXT   NOT NULL,
    requested_at BIGINT NOT NULL
);

CREATE INDEX mail_requests_by_email ON mail_requests (email, purpose, requested_at);

-- Failed sign-ins per typed address (known or not, so the answer never tells them apart):
-- per client address (`scope` = the IP) and for all addresses together (`scope` = '*').
CREATE TABLE signin_failures (
    email        TEXT   NOT NULL,
    scope        TEXT   NOT NULL,
    failures     BIGINT NOT NULL,
    locked_until BIGINT,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (email, scope)
);

CREATE INDEX signin_failures_by_age ON signin_failures (updated_at);

-- Who is signed in where. tower-sessions keeps the session itself; this row, written by the
-- session store beside it, lets a user list their sessions and end them. `public_id` is what
-- the user sees and names; the session id (the cookie's value) is never shown.
CREATE TABLE user_sessions (
    session_id   TEXT   NOT NULL PRIMARY KEY,
    public_id    TEXT   NOT NULL UNIQUE,
    user_id      TEXT   NOT NULL,
    user_agent   TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

CREATE INDEX user_sessions_by_user ON user_sessions (user_id, last_seen_at DESC);
