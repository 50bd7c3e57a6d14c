//! Black-box tests: a real server on 127.0.0.1:0, real HTTP clients. Runs on
//! SQLite by default and on PostgreSQL when `HUDDLE_TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used)]

mod account;
mod app;
mod authz;
mod club;
mod cors;
mod envelope;
mod event;
mod fakes;
mod faults;
mod h5;
#[allow(unused_imports)] // the shared kit: not every suite uses all of it
mod helpers;
mod limits;
mod openapi;
mod privacy;
mod process;
mod realtime;
mod remote;
mod restart;
mod room;
mod schema;
mod sessions;
mod signing;
mod unknown_ids;
mod uploads;
mod user;
mod ws;
mod ws_abuse;
mod ws_memory;
