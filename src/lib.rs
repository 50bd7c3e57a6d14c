//! # huddle
//!
//! A realtime server for live audio-room apps: SMS login, clubs, live rooms,
//! invites, scheduled events, voice tokens, and every change pushed over
//! WebSockets, behind the fixed mobile HTTP API (see `docs/architecture.md`).
//!
//! ## Layout
//! - [`cli`], [`config`], [`telemetry`]: the process: command line, settings, logs.
//! - [`startup`]: builds the actors, services and HTTP server (used by `main` and the tests).
//! - [`http`]: the routes, one module per seed section, plus the envelope middlewares.
//! - [`auth`]: parameters, request signing, sessions: the extractor every route uses.
//! - [`envelope`]: `{result, message, status}` and the HTTP layer's error type.
//! - [`clients`]: outside services (SMS and captcha, voice tokens, image
//!   storage, push, link previews, WeChat), each with a local default.
//! - [`realtime`]: `GET /ws`, one session actor per WebSocket, the per-node hub
//!   (protocol in `docs/realtime.md`).
//! - The live model (actors, repository, cache) is the `huddle-actors` crate.

pub mod auth;
pub mod cli;
pub mod clients;
pub mod config;
pub mod envelope;
pub mod http;
pub mod ratelimit;
pub mod realtime;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use huddle_actors;
