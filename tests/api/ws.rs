//! The WebSocket client of the shared test kit (`huddle_test_support::ws`).
pub use huddle_test_support::ws::*;
