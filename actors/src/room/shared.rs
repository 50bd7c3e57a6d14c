//! A room shared by several nodes: its live state lives in Redis and every
//! change is one Lua script that checks, applies, numbers and publishes it.
//!
//! **Ordering.** Redis runs scripts one at a time, so the `INCR` of the room's
//! seq key, the append to its history list and the `PUBLISH` on its channel
//! happen together, in seq order, for changes made on any node. Each node's
//! [`super::RoomActor`] is a *replica*: it applies the frames it receives on
//! the channel in seq order (a jump means it missed some, and it reloads from
//! Redis) and fans them out to its own sockets. No node owns a room, so none
//! has to be elected or fenced, and a node that dies takes no state with it.
//!
//! **Presence.** Each member has a deadline in a sorted set. The node holding
//! a connection of the member pushes it forward every tick (`ZADD XX GT`);
//! every replica's tick removes the members whose deadline passed, each
//! exactly once (the removal and its `room.member_left` are one script).
//!
//! **Redis restarts.** When a node links up again it re-registers what it
//! knows ([`SharedRoom::reseed`]): after a data loss (no seq key) it restores
//! the seq floor and every member it knows, silently, with a fresh deadline
//! (members no node refreshes then leave with a timeout, announced once);
//! otherwise it brings back only its own connected members that were swept
//! meanwhile, as joins. Then it reloads.

use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;

use super::frames::{self, MemberJson, RoomEvent};
use super::RoomError;
use crate::cluster::keys::RoomKeys;
use crate::cluster::{Cluster, ClusterError};
use crate::ids::{RoomId, Uid};
use crate::outbound::Frame;

/// Live room keys expire this long after the last change (abandoned rooms).
const KEY_TTL_MS: u64 = 6 * 3600 * 1000;
/// Members swept per tick at most.
const SWEEP_BATCH: usize = 100;

/// Check, apply, number, record and publish one change.
/// KEYS: seq members presence hands removed history closed.
/// ARGV: op uid prefix suffix deadline history_max channel ttl_ms.
/// Answers the seq used, 0 (nothing changed), -1 (closed), -2 (not a member),
/// -3 (removed by the host).
static EMIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[7]) == 1 then return -1 end
local op, uid = ARGV[1], ARGV[2]
if op == 'join' then
  if redis.call('SISMEMBER', KEYS[5], uid) == 1 then return -3 end
  if redis.call('HEXISTS', KEYS[2], uid) == 1 then
    local cur = tonumber(redis.call('ZSCORE', KEYS[3], uid) or '0')
    if cur < tonumber(ARGV[5]) then redis.call('ZADD', KEYS[3], ARGV[5], uid) end
    return 0
  end
  redis.call('ZADD', KEYS[3], ARGV[5], uid)
elseif op == 'leave' then
  if redis.call('HDEL', KEYS[2], uid) == 0 then return -2 end
  redis.call('ZREM', KEYS[3], uid)
  redis.call('SREM', KEYS[4], uid)
elseif op == 'remove' then
  redis.call('SADD', KEYS[5], uid)
  if redis.call('HDEL', KEYS[2], uid) == 0 then return 0 end
  redis.call('ZREM', KEYS[3], uid)
  redis.call('SREM', KEYS[4], uid)
elseif op == 'hand_up' then
  if redis.call('HEXISTS', KEYS[2], uid) == 0 then return -2 end
  if redis.call('SADD', KEYS[4], uid) == 0 then return 0 end
elseif op == 'hand_down' then
  if redis.call('HEXISTS', KEYS[2], uid) == 0 then return -2 end
  if redis.call('SREM', KEYS[4], uid) == 0 then return 0 end
elseif op == 'speaker_on' then
  redis.call('SREM', KEYS[4], uid)
elseif op == 'close' then
  redis.call('SET', KEYS[7], '1')
end
local seq = redis.call('INCR', KEYS[1])
local frame = ARGV[3] .. seq .. ARGV[4]
if op == 'join' then redis.call('HSET', KEYS[2], uid, frame) end
redis.call('RPUSH', KEYS[6], frame)
redis.call('LTRIM', KEYS[6], -tonumber(ARGV[6]), -1)
local ttl = ARGV[8]
if op == 'close' then ttl = 60000 end
for i = 1, 7 do redis.call('PEXPIRE', KEYS[i], ttl) end
redis.call('PUBLISH', ARGV[7], frame)
return seq",
    )
});

/// Refresh the deadlines of this node's connected members, then remove the
/// members whose deadline passed, each with its `room.member_left`.
/// ARGV: now deadline prefix mid tail history_max channel ttl_ms batch uid...
static TICK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[7]) == 1 then return 0 end
for i = 10, #ARGV do redis.call('ZADD', KEYS[3], 'XX', 'GT', ARGV[2], ARGV[i]) end
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[9]))
local left = 0
for _, uid in ipairs(gone) do
  redis.call('ZREM', KEYS[3], uid)
  if redis.call('HDEL', KEYS[2], uid) == 1 then
    redis.call('SREM', KEYS[4], uid)
    local seq = redis.call('INCR', KEYS[1])
    local frame = ARGV[3] .. seq .. ARGV[4] .. uid .. ARGV[5]
    redis.call('RPUSH', KEYS[6], frame)
    redis.call('LTRIM', KEYS[6], -tonumber(ARGV[6]), -1)
    redis.call('PUBLISH', ARGV[7], frame)
    left = left + 1
  end
end
if left > 0 then for i = 1, 7 do redis.call('PEXPIRE', KEYS[i], ARGV[8]) end end
return left",
    )
});

/// Everything a replica needs, read at one instant.
static LOAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
return {
  tonumber(redis.call('GET', KEYS[1]) or '0'),
  redis.call('HVALS', KEYS[2]),
  redis.call('SMEMBERS', KEYS[4]),
  redis.call('LRANGE', KEYS[6], 0, -1),
  redis.call('EXISTS', KEYS[7]),
  redis.call('SMEMBERS', KEYS[5])
}",
    )
});

/// Re-register what this node knows after Redis came back.
/// ARGV: seq_floor deadline channel ttl_ms history_max
///       n_known (uid frame)*n  n_local (uid prefix suffix)*n  n_removed uid*n
/// Answers 1 when Redis had lost the room (restored), 0 otherwise.
static RESEED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local i = 6
local function take() local v = ARGV[i]; i = i + 1; return v end
local lost = redis.call('EXISTS', KEYS[1]) == 0
local n = tonumber(take())
for _ = 1, n do
  local uid, frame = take(), take()
  if lost and redis.call('SISMEMBER', KEYS[5], uid) == 0 then
    redis.call('HSETNX', KEYS[2], uid, frame)
    redis.call('ZADD', KEYS[3], 'NX', ARGV[2], uid)
  end
end
if lost then redis.call('SET', KEYS[1], ARGV[1]) end
n = tonumber(take())
for _ = 1, n do
  local uid, prefix, suffix = take(), take(), take()
  if redis.call('EXISTS', KEYS[7]) == 0 and redis.call('SISMEMBER', KEYS[5], uid) == 0
     and redis.call('HEXISTS', KEYS[2], uid) == 0 then
    local seq = redis.call('INCR', KEYS[1])
    local frame = prefix .. seq .. suffix
    redis.call('HSET', KEYS[2], uid, frame)
    redis.call('ZADD', KEYS[3], ARGV[2], uid)
    redis.call('RPUSH', KEYS[6], frame)
    redis.call('LTRIM', KEYS[6], -tonumber(ARGV[5]), -1)
    redis.call('PUBLISH', ARGV[3], frame)
  end
end
n = tonumber(take())
for _ = 1, n do redis.call('SADD', KEYS[5], take()) end
for k = 1, 7 do redis.call('PEXPIRE', KEYS[k], ARGV[4]) end
if lost then return 1 end
return 0",
    )
});

/// A change a node proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// A new member (`room.member_joined`), or a refreshed deadline.
    Join,
    /// A member leaves (`room.member_left`, reason `left`).
    Leave,
    /// The host removed someone (`room.member_removed` when a member).
    Remove,
    /// `room.hand_raised`.
    HandUp,
    /// `room.hand_lowered`.
    HandDown,
    /// `room.speaker_added` (lowers the hand).
    SpeakerOn,
    /// `room.speaker_removed`.
    SpeakerOff,
    /// `room.closed`.
    Close,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Self::Join => "join",
            Self::Leave => "leave",
            Self::Remove => "remove",
            Self::HandUp => "hand_up",
            Self::HandDown => "hand_down",
            Self::SpeakerOn => "speaker_on",
            Self::SpeakerOff => "speaker_off",
            Self::Close => "close",
        }
    }
}

/// What Redis made of a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied as event `seq`.
    Applied(i64),
    /// Nothing to change (already so).
    Unchanged,
}

/// A room's state as Redis holds it.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The last seq used.
    pub seq: i64,
    /// Members: (join seq, member as joined).
    pub members: Vec<(i64, MemberJson, Frame)>,
    /// Raised hands.
    pub hands: Vec<Uid>,
    /// The latest frames (seq, ts, frame), oldest first.
    pub history: Vec<(i64, i64, Frame)>,
    /// The room closed.
    pub closed: bool,
    /// Removed by the host.
    pub removed: Vec<Uid>,
}

/// What a replica re-registers after Redis came back.
pub struct Reseed {
    /// Its last seq.
    pub seq: i64,
    /// Every member it knows, with their join frame.
    pub known: Vec<(Uid, Frame)>,
    /// Members with a connection on this node, with their join event.
    pub local: Vec<(Uid, RoomEvent)>,
    /// Removed by the host.
    pub removed: Vec<Uid>,
}

/// One room's handle on Redis.
#[derive(Clone)]
pub struct SharedRoom {
    cluster: Cluster,
    room_id: RoomId,
    keys: RoomKeys,
    history_max: usize,
}

/// `frame` split around its seq: `(…"seq":`, `,"ts":…)`.
fn split_at_seq(frame: &str) -> Option<(String, String)> {
    const MARK: &str = "\"seq\":0,";
    let at = frame.find(MARK)?;
    let prefix = &frame[..at + MARK.len() - 2];
    let suffix = &frame[at + MARK.len() - 1..];
    Some((prefix.to_owned(), suffix.to_owned()))
}

fn unavailable(e: ClusterError) -> RoomError {
    RoomError::Unavailable(e.to_string())
}

impl SharedRoom {
    /// The Redis side of `room_id`.
    pub fn new(cluster: Cluster, room_id: RoomId, history_max: usize) -> Self {
        Self {
            keys: RoomKeys::new(&room_id),
            cluster,
            room_id,
            history_max: history_max.max(1),
        }
    }

    /// The node's link.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The room's channel.
    pub fn channel(&self) -> &str {
        &self.keys.channel
    }

    fn script<'a>(&'a self, script: &'a Script) -> redis::ScriptInvocation<'a> {
        let mut invocation = script.prepare_invoke();
        for key in self.keys.all() {
            invocation.key(key);
        }
        invocation
    }

    /// The frame parts of `event` at `ts` (the seq is Redis's to fill in).
    fn template(&self, ts: i64, event: &RoomEvent) -> Result<(String, String), RoomError> {
        let frame = frames::event_frame(&self.room_id, 0, ts, event);
        split_at_seq(&frame).ok_or(RoomError::BadRequest("event frame without a seq"))
    }

    /// Proposes `op` on `uid` as `event` at `ts`; `deadline` is the presence
    /// deadline a join sets.
    pub async fn propose(
        &self,
        op: Op,
        uid: &Uid,
        event: &RoomEvent,
        ts: i64,
        deadline: i64,
    ) -> Result<Outcome, RoomError> {
        let (prefix, suffix) = self.template(ts, event)?;
        let mut connection = self.cluster.connection().map_err(unavailable)?;
        let answer: i64 = self
            .script(&EMIT)
            .arg(op.name())
            .arg(uid.as_str())
            .arg(prefix)
            .arg(suffix)
            .arg(deadline)
            .arg(self.history_max)
            .arg(&self.keys.channel)
            .arg(KEY_TTL_MS)
            .invoke_async(&mut connection)
            .await
            .map_err(|e| unavailable(e.into()))?;
        match answer {
            n if n > 0 => Ok(Outcome::Applied(n)),
            0 => Ok(Outcome::Unchanged),
            -1 => Err(RoomError::NotFound),
            -2 => Err(RoomError::NotMember),
            _ => Err(RoomError::Forbidden("the host removed you from this room")),
        }
    }

    /// Pushes the deadlines of `present` to `deadline` and sweeps the members
    /// whose deadline is before `now`; answers how many left.
    pub async fn tick(&self, now: i64, deadline: i64, present: &[Uid]) -> Result<i64, RoomError> {
        let marker = Uid::parse(&"0".repeat(32)).map_err(|_| RoomError::BadRequest("marker"))?;
        let frame = frames::event_frame(
            &self.room_id,
            0,
            now,
            &RoomEvent::MemberLeft {
                uid: marker.clone(),
                reason: frames::LeaveReason::Timeout,
            },
        );
        let (prefix, rest) =
            split_at_seq(&frame).ok_or(RoomError::BadRequest("event frame without a seq"))?;
        let (mid, tail) = rest
            .split_once(marker.as_str())
            .ok_or(RoomError::BadRequest("event frame without a uid"))?;
        let mut connection = self.cluster.connection().map_err(unavailable)?;
        let mut invocation = self.script(&TICK);
        invocation
            .arg(now)
            .arg(deadline)
            .arg(prefix)
            .arg(mid)
            .arg(tail)
            .arg(self.history_max)
            .arg(&self.keys.channel)
            .arg(KEY_TTL_MS)
            .arg(SWEEP_BATCH);
        for uid in present {
            invocation.arg(uid.as_str());
        }
        invocation
            .invoke_async(&mut connection)
            .await
            .map_err(|e| unavailable(e.into()))
    }

    /// The room as Redis holds it now.
    pub async fn load(&self) -> Result<Loaded, RoomError> {
        let mut connection = self.cluster.connection().map_err(unavailable)?;
        type Raw = (i64, Vec<String>, Vec<String>, Vec<String>, i64, Vec<String>);
        let (seq, members, hands, history, closed, removed): Raw = self
            .script(&LOAD)
            .invoke_async(&mut connection)
            .await
            .map_err(|e| unavailable(e.into()))?;
        let mut loaded = Loaded {
            seq,
            closed: closed == 1,
            ..Loaded::default()
        };
        for frame in members {
            if let Some((seq, _, RoomEvent::MemberJoined { member })) = frames::parse_event(&frame)
            {
                loaded.members.push((seq, member, frame.into()));
            }
        }
        loaded.members.sort_by_key(|(seq, _, _)| *seq);
        loaded.hands = hands.iter().filter_map(|u| Uid::parse(u).ok()).collect();
        loaded.removed = removed.iter().filter_map(|u| Uid::parse(u).ok()).collect();
        for frame in history {
            if let Some((seq, ts, _)) = frames::parse_event(&frame) {
                loaded.history.push((seq, ts, frame.into()));
            }
        }
        Ok(loaded)
    }

    /// Re-registers what this replica knows (see the module docs); true when
    /// Redis had lost the room.
    pub async fn reseed(&self, reseed: Reseed, now: i64, deadline: i64) -> Result<bool, RoomError> {
        let mut connection = self.cluster.connection().map_err(unavailable)?;
        let mut invocation = self.script(&RESEED);
        invocation
            .arg(reseed.seq)
            .arg(deadline)
            .arg(&self.keys.channel)
            .arg(KEY_TTL_MS)
            .arg(self.history_max)
            .arg(reseed.known.len());
        for (uid, frame) in &reseed.known {
            invocation.arg(uid.as_str()).arg(&**frame);
        }
        invocation.arg(reseed.local.len());
        for (uid, event) in &reseed.local {
            let (prefix, suffix) = self.template(now, event)?;
            invocation.arg(uid.as_str()).arg(prefix).arg(suffix);
        }
        invocation.arg(reseed.removed.len());
        for uid in &reseed.removed {
            invocation.arg(uid.as_str());
        }
        let lost: i64 = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(|e| unavailable(e.into()))?;
        Ok(lost == 1)
    }
}

/// How long a replica waits for Redis when it starts.
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_put_the_seq_back_where_the_serializer_has_it() {
        let room = RoomId::parse("0123456789abcdef0123456789abcdef").unwrap();
        let uid = Uid::parse("fedcba9876543210fedcba9876543210").unwrap();
        let event = RoomEvent::HandRaised { uid };
        let (prefix, suffix) =
            split_at_seq(&frames::event_frame(&room, 0, 1_700_000_000_000, &event)).unwrap();
        assert_eq!(
            format!("{prefix}{}{suffix}", 4321),
            &*frames::event_frame(&room, 4321, 1_700_000_000_000, &event)
        );
    }
}
