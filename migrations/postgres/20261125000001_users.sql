-- Accounts. Emails are stored normalised (trimmed, case-folded) and unique in any letter case.
CREATE TABLE users (
    id            TEXT   NOT NULL PRIMARY KEY,
    email         TEXT   NOT NULL,
    password_hash TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE UNIQUE INDEX users_email_unique ON users (lower(email));
CREATE INDEX users_by_email ON users (email);
