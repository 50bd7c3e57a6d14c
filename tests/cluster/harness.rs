//! The multi-node suite's harness is the shared test kit (`tests/support`,
//! crate `huddle-test-support`): `huddle_test_support::cluster` (nodes,
//! redis-server, PostgreSQL proxy, gating), the signing client, the
//! WebSocket client (frames with their exact text and arrival time) and the
//! fakes.
pub use huddle_test_support::cluster::*;
pub use huddle_test_support::prelude::*;
pub use huddle_test_support::ws::assert_gap_free_after as assert_gap_free;

/// A client whose frames keep their text and arrival time.
pub type WsClient = huddle_test_support::ws::WsClient<Frame>;
