//! Several real huddle processes sharing PostgreSQL and Redis (issue 6).
#![allow(clippy::unwrap_used)]
