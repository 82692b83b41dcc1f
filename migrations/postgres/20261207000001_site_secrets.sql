-- Secrets the site makes for itself, shared by every node of one database: the key that signs
-- the error links of forms posted without JavaScript, when SECRET_KEY is not set. Made once, by
-- whichever node starts first; the others read it.
CREATE TABLE site_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
