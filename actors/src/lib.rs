//! # huddle-actors: the live model
//!
//! Everything here is independent of HTTP: the REST handlers and the WebSocket
//! door in the `huddle` crate are thin adapters over these types.
//!
//! ## Layout
//! - [`ids`]: typed, validated identifiers (`Uid`, `SessionId`, ...): 32 lowercase hex.
//! - [`clock`]: the one source of "now" (a manual clock in tests, never sleeps).
//! - [`db`]: the database handle (SQLite by default, PostgreSQL by URL).
//! - [`migrations`]: the schema, one copy of what both dialects share, assembled
//!   per dialect at build time.
//! - [`repo`]: the repository actor, the only code that touches sqlx; one typed
//!   message per operation.
//! - [`room`], [`club`], [`scheduler`]: the live actors (one per open room, one per
//!   active club, one event scheduler per node), found through [`registry`].
//! - [`outbound`]: what live actors send to WebSocket connections (shared JSON
//!   frames, close codes) and the never-waiting delivery with slow-consumer cut-off.
//! - [`bus`]: every observable change, published after it is persisted.
//! - [`notices`]: the texts of inbox messages.
//! - [`cache`]: short-lived shared state with TTLs (captcha codes, send limits, the
//!   signing replay window): in-process by default.

pub mod bus;
pub mod cache;
pub mod clock;
pub mod club;
pub mod cluster;
pub mod db;
pub mod ids;
pub mod migrations;
pub mod notices;
pub mod outbound;
pub mod registry;
pub mod repo;
pub mod room;
pub mod scheduler;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use ids::{ClubId, EventId, IdError, ImageId, RoomCacheId, RoomId, SessionId, Uid, VersionId};
