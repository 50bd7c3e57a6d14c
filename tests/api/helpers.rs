//! The black-box suite's helpers are the shared test kit
//! (`tests/support`, crate `huddle-test-support`): the in-process server,
//! its database, the signing client (every response checked against the
//! OpenAPI document), fakes and shape checks. This module keeps the suite's
//! `use crate::helpers::*` working.
pub use huddle_test_support::prelude::*;
