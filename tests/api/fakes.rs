//! Fake outside services of the shared test kit (`huddle_test_support::fakes`, on wiremock).
pub use huddle_test_support::fakes::{FakeService, Reply};
