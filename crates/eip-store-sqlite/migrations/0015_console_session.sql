-- Web console sessions, in the store so a browser stays signed in whichever
-- node the balancer sends it to, and a sign-out on one node ends it on all.
-- The session cookie's value is kept only as its SHA-256: a copy of the
-- database signs nobody in. Sessions end with their account.
CREATE TABLE console_session (
    id_hash TEXT PRIMARY KEY CHECK (length(id_hash) = 64),
    account_id TEXT NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    account_name TEXT NOT NULL,
    csrf TEXT NOT NULL CHECK (length(csrf) > 0),
    region_id TEXT NOT NULL CHECK (length(region_id) > 0),
    expires_at INTEGER NOT NULL
);
CREATE INDEX console_session_expiry ON console_session (expires_at);
