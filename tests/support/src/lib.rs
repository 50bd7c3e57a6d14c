//! huddle's test kit, shared by the black-box suite (`tests/api`) and the
//! multi-node suite (`tests/cluster`).
//!
//! - [`app`]: the server under test in-process ([`app::spawn_app`], a
//!   [`app::TestApp`] on a manual clock) and its fresh database
//!   ([`app::TestDb`], SQLite or PostgreSQL); where the real binary is.
//! - [`cluster`]: real `huddle` processes ([`cluster::Node`]), a redis-server
//!   of the test's own, a PostgreSQL proxy that can cut the database off, and
//!   a [`cluster::Cluster`] of them.
//! - [`client`]: the signing HTTP client ([`client::Call`], [`client::Resp`])
//!   for any [`client::Target`] and the flows the suites repeat ([`client::Api`]).
//! - [`ws`]: the WebSocket client.
//! - [`fakes`]: fake outside services (SMS gateway, JPush, WeChat, STS, web
//!   pages) on wiremock.
//! - [`shapes`]: `assert_*` shape checks of API objects.
//! - [`schema`]: every response checked against the server's OpenAPI document.
//!
//! `use huddle_test_support::prelude::*;` brings all of it.
#![allow(clippy::unwrap_used)] // a test kit: a panic is a failed test, with its message

pub mod app;
pub mod client;
pub mod cluster;
pub mod fakes;
pub mod schema;
pub mod shapes;
pub mod ws;

/// Everything a test file uses.
pub mod prelude {
    pub use crate::app::*;
    pub use crate::client::*;
    pub use crate::fakes::*;
    pub use crate::shapes::*;
    pub use crate::ws::{assert_gap_free, seqs, Frame, Received, Refused, WsClient, WAIT};
}
