-- The mobile API, part 1: profiles, blocks, cards, messages, clubs, rooms, events.

CREATE TABLE profiles (
    uid         TEXT PRIMARY KEY REFERENCES accounts (uid),
    nickname    TEXT NOT NULL,
    avatar      TEXT NOT NULL,
    bio         TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- uid has blocked blocked_uid.
CREATE TABLE blocks (
    uid          TEXT NOT NULL REFERENCES accounts (uid),
    blocked_uid  TEXT NOT NULL REFERENCES accounts (uid),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (uid, blocked_uid)
);
CREATE INDEX blocks_page ON blocks (uid, created_at, blocked_uid);

-- holder_uid holds owner_uid's card (owner sent it to holder).
CREATE TABLE cards (
    holder_uid  TEXT NOT NULL REFERENCES accounts (uid),
    owner_uid   TEXT NOT NULL REFERENCES accounts (uid),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (holder_uid, owner_uid)
);
CREATE INDEX cards_page ON cards (holder_uid, created_at, owner_uid);
CREATE INDEX cards_by_owner ON cards (owner_uid);

CREATE TABLE messages (
    message_id        BIGINT PRIMARY KEY,
    uid               TEXT NOT NULL REFERENCES accounts (uid),
    title             TEXT NOT NULL,
    content           TEXT NOT NULL,
    url               TEXT NOT NULL,
    message_type      BIGINT NOT NULL DEFAULT 0,
    origin_push_type  BIGINT NOT NULL DEFAULT 0,
    origin_uid        TEXT NOT NULL DEFAULT '',
    unread            BIGINT NOT NULL DEFAULT 1,
    created_at        BIGINT NOT NULL
);
CREATE INDEX messages_page ON messages (uid, message_id);
CREATE INDEX messages_unread ON messages (uid, unread);

CREATE TABLE clubs (
    club_id       TEXT PRIMARY KEY,
    uid           TEXT NOT NULL REFERENCES accounts (uid),
    name          TEXT NOT NULL,
    cover         TEXT NOT NULL,
    member_total  BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE club_members (
    club_id     TEXT NOT NULL REFERENCES clubs (club_id),
    uid         TEXT NOT NULL REFERENCES accounts (uid),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (club_id, uid)
);
CREATE INDEX club_members_page ON club_members (club_id, created_at, uid);
CREATE INDEX club_members_by_uid ON club_members (uid, created_at, club_id);

CREATE TABLE rooms (
    room_id      TEXT PRIMARY KEY,
    uid          TEXT NOT NULL REFERENCES accounts (uid),
    name         TEXT NOT NULL,
    club_id      TEXT REFERENCES clubs (club_id),
    invite_only  BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    closed_at    BIGINT
);
CREATE INDEX rooms_by_club ON rooms (club_id, created_at);
CREATE INDEX rooms_by_host ON rooms (uid, created_at);

CREATE TABLE room_invites (
    room_id      TEXT NOT NULL REFERENCES rooms (room_id),
    uid          TEXT NOT NULL REFERENCES accounts (uid),
    inviter_uid  TEXT NOT NULL REFERENCES accounts (uid),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (room_id, uid)
);
CREATE INDEX room_invites_by_uid ON room_invites (uid);

-- A share token for (room, sharer), opened by /h5/room/{roomCacheId}.
CREATE TABLE room_caches (
    room_cache_id  TEXT PRIMARY KEY,
    room_id        TEXT NOT NULL REFERENCES rooms (room_id),
    uid            TEXT NOT NULL REFERENCES accounts (uid),
    created_at     BIGINT NOT NULL,
    UNIQUE (room_id, uid)
);

CREATE TABLE events (
    event_id     TEXT PRIMARY KEY,
    uid          TEXT NOT NULL REFERENCES accounts (uid),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    event_time   BIGINT NOT NULL,
    room_id      TEXT REFERENCES rooms (room_id),
    reminded_at  BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX events_page ON events (created_at, event_id);
CREATE INDEX events_due ON events (reminded_at, event_time);

CREATE TABLE event_members (
    event_id  TEXT NOT NULL REFERENCES events (event_id) ON DELETE CASCADE,
    uid       TEXT NOT NULL REFERENCES accounts (uid),
    position  BIGINT NOT NULL,
    PRIMARY KEY (event_id, uid)
);

CREATE TABLE event_subscribers (
    event_id    TEXT NOT NULL REFERENCES events (event_id) ON DELETE CASCADE,
    uid         TEXT NOT NULL REFERENCES accounts (uid),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (event_id, uid)
);
