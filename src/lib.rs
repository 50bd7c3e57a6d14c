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
//! - [`captcha`], [`sms`], [`phone`]: SMS login.
//! - [`rtc`]: voice tokens (Agora AccessToken).
//! - [`storage`]: image uploads: the local store, S3 SigV4 and OSS V1 presigned URLs.
//! - [`push`]: push notifications for users with no live socket (log, JPush).
//! - [`linkpreview`]: link previews behind an SSRF guard.
//! - [`wechat`]: WeChat JS-SDK signatures, jsapi_ticket and OAuth for H5 pages.
//! - [`realtime`]: `GET /ws`, one session actor per WebSocket, the per-node hub
//!   (protocol in `docs/realtime.md`).
//! - The live model (actors, repository, cache) is the `huddle-actors` crate.

pub mod auth;
pub mod captcha;
pub mod cli;
pub mod config;
pub mod envelope;
pub mod http;
pub mod linkpreview;
pub mod phone;
pub mod push;
pub mod ratelimit;
pub mod realtime;
pub mod rtc;
pub mod sms;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod wechat;

pub use huddle_actors;
