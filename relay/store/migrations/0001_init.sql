-- Sites, cameras, users and the credentials that let them in.

CREATE TABLE sites (
    id          TEXT PRIMARY KEY,
    district_zh TEXT NOT NULL,
    district_en TEXT NOT NULL,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    time_zone   TEXT NOT NULL
);

CREATE TABLE cameras (
    site_id  TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    id       TEXT NOT NULL,
    zone     TEXT NOT NULL,
    name_zh  TEXT NOT NULL,
    name_en  TEXT NOT NULL,
    -- position orders a site's cameras as configured (most watched first).
    position INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, id)
);

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('duty', 'supervisor', 'site_manager', 'admin')),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL
);

-- The sites a site manager may watch.
CREATE TABLE user_sites (
    user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    site_id   TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    PRIMARY KEY (user_name, site_id)
);

-- Bearer tokens with which a site's gateway publishes. Only a SHA-256 of the
-- token is kept: tokens are 256 random bits, so a fast hash is enough.
CREATE TABLE publish_tokens (
    id         INTEGER PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL,
    label      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX publish_tokens_site ON publish_tokens (site_id) WHERE revoked_at IS NULL;

-- Every WHEP session, for the record of who watched what. No foreign keys:
-- the record outlives the users and cameras it names.
CREATE TABLE whep_sessions (
    id               TEXT PRIMARY KEY,
    user_name        TEXT NOT NULL,
    site_id          TEXT NOT NULL,
    camera_id        TEXT NOT NULL,
    requested_stream TEXT NOT NULL,
    stream           TEXT NOT NULL,
    started_at       TEXT NOT NULL,
    ended_at         TEXT,
    end_reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX whep_sessions_open ON whep_sessions (started_at) WHERE ended_at IS NULL;
