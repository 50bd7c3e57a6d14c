//! Several real huddle processes sharing PostgreSQL and Redis (issue 6).
//!
//! Every test starts its own cluster: a fresh PostgreSQL database
//! (`huddle_c_<uuid>`), a redis-server of its own on a free port, and two or
//! three `huddle` binaries (nodes a, b, c) on `127.0.0.1:0`. Clients talk to
//! the nodes like the app does: signed REST calls and `/ws` sockets.
//!
//! - [`fanout`]: one room seen from several nodes (same frames, one gap-free
//!   seq), invites across nodes exactly once, cross-node vs same-node latency
//!   (`cluster-latency:` line on stderr);
//! - [`faults`]: kill -9 of a node, Redis restarted, PostgreSQL cut off;
//! - [`concurrency`]: hundreds of concurrent club joins and room tokens
//!   through two nodes, with exact counts;
//! - [`shared_state`]: `resume` on another node (exact replay or snapshot),
//!   offline push once per cluster, the signing replay window and captcha
//!   codes across nodes.
//!
//! Needs `HUDDLE_TEST_DATABASE_URL` (admin URL), `HUDDLE_TEST_REDIS_URL` and
//! `redis-server` on PATH; without the two variables the tests are skipped
//! (but fail under `CI=true`). `HUDDLE_CLUSTER_PARALLEL` (default 2) bounds
//! how many clusters run at once.
#![allow(clippy::unwrap_used)]

mod concurrency;
mod fanout;
mod faults;
#[allow(unused_imports)] // the shared kit: not every suite uses all of it
mod harness;
mod shared_state;
