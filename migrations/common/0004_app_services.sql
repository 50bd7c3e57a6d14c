-- The rest of the mobile API: uploaded images, push registrations, app
-- versions, feedback, reports and link previews.

-- An upload address handed out for image_id; uploaded_at is set when the
-- local store received the bytes (external stores never tell us).
CREATE TABLE images (
    image_id     TEXT PRIMARY KEY,
    uid          TEXT NOT NULL REFERENCES accounts (uid),
    image_dir    TEXT NOT NULL,
    object_key   TEXT NOT NULL UNIQUE,
    image_url    TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    uploaded_at  BIGINT
);
CREATE INDEX images_by_uid ON images (uid, created_at);

-- A push registration id belongs to one user and client type; a user has at
-- most one id per client type (the latest bind wins).
CREATE TABLE push_registrations (
    registration_id  TEXT PRIMARY KEY,
    uid              TEXT NOT NULL REFERENCES accounts (uid),
    client_type      BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (uid, client_type)
);

CREATE TABLE app_versions (
    version_id      TEXT PRIMARY KEY,
    client_type     BIGINT NOT NULL,
    version_code    BIGINT NOT NULL,
    version_name    TEXT NOT NULL,
    version_desc    TEXT NOT NULL,
    download_url    TEXT NOT NULL,
    forced_upgrade  BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (client_type, version_code)
);

CREATE TABLE feedback (
    feedback_id    TEXT PRIMARY KEY,
    uid            TEXT NOT NULL REFERENCES accounts (uid),
    origin_type    BIGINT NOT NULL,
    origin_id      TEXT NOT NULL,
    feedback_type  BIGINT NOT NULL,
    content        TEXT NOT NULL,
    image_ids      TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE reports (
    report_id    TEXT PRIMARY KEY,
    uid          TEXT NOT NULL REFERENCES accounts (uid),
    origin_type  BIGINT NOT NULL,
    origin_id    TEXT NOT NULL,
    reason_type  BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- A fetched page's preview, by md5 of its link.
CREATE TABLE link_previews (
    link_md5     TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    image        TEXT NOT NULL,
    fetched_at   BIGINT NOT NULL
);
