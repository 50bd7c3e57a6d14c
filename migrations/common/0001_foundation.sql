-- Foundation: settings, accounts and login sessions.

-- Server-wide settings that must survive restarts (e.g. the generated JWT secret).
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- One account per (country code, mobile), created on first SMS login.
CREATE TABLE accounts (
    uid           TEXT PRIMARY KEY,
    country_code  TEXT NOT NULL,
    mobile        TEXT NOT NULL,
    frozen        BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    UNIQUE (country_code, mobile)
);

-- One row per login; the access token (a JWT) names the session, the access
-- secret used for request signing stays here.
CREATE TABLE sessions (
    session_id     TEXT PRIMARY KEY,
    uid            TEXT NOT NULL REFERENCES accounts (uid),
    access_secret  TEXT NOT NULL,
    client_type    BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    expire_at      BIGINT NOT NULL,
    revoked_at     BIGINT
);
CREATE INDEX sessions_by_uid ON sessions (uid);
