-- Realtime rooms: speakers the host allowed, members the host removed, and
-- the block of room event sequence numbers already handed out.

-- seq_reserved: every seq up to this value may have been used by a room actor;
-- a new actor for the room continues above it, so seq never goes backwards.
ALTER TABLE rooms ADD COLUMN seq_reserved BIGINT NOT NULL DEFAULT 0;

-- uid may speak in room_id (allowLive = 1); the host always may.
CREATE TABLE room_speakers (
    room_id     TEXT NOT NULL REFERENCES rooms (room_id),
    uid         TEXT NOT NULL REFERENCES accounts (uid),
    granted_by  TEXT NOT NULL REFERENCES accounts (uid),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (room_id, uid)
);

-- The host removed uid from room_id: no new voice token, no WebSocket join.
CREATE TABLE room_removals (
    room_id     TEXT NOT NULL REFERENCES rooms (room_id),
    uid         TEXT NOT NULL REFERENCES accounts (uid),
    removed_by  TEXT NOT NULL REFERENCES accounts (uid),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (room_id, uid)
);
