//! The schema's migrations, one copy of what both dialects share.
//!
//! `migrations/common/` holds every migration whose SQL is the same on SQLite
//! and PostgreSQL (so far all of them); `migrations/sqlite/` and
//! `migrations/postgres/` hold only a dialect's own version of a file, under
//! the same name, when it needs different SQL. `actors/build.rs` assembles the
//! two lists at build time and embeds every file with `include_str!`.
//!
//! Why not `sqlx::migrate!` on two folders: it takes one literal folder per
//! list, so both dialects would need a full copy (they were byte-identical
//! twins until issue 16). The lists here are handed to sqlx's own [`Migrator`]
//! through [`MigrationSource`], so versions, descriptions, checksums (SHA-384
//! of the text) and the `_sqlx_migrations` table are exactly what
//! `sqlx::migrate!` made: databases created by the old folders open unchanged
//! (`tests::applied_checksums_are_pinned`, and `tests/api/schema.rs` opens a
//! database made by `sqlx::migrate!` itself).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use crate::db::Backend;

/// One embedded migration file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source {
    /// `NNNN` of `NNNN_name.sql`.
    version: i64,
    /// `name`, `_` read as a space (as `sqlx::migrate!` describes it).
    description: &'static str,
    /// The file's text, byte for byte: sqlx stores its checksum.
    sql: &'static str,
    /// The file starts with `-- no-transaction`.
    no_tx: bool,
}

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// A backend's assembled list, as sqlx resolves a folder.
#[derive(Debug)]
struct Embedded(&'static [Source]);

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async move { Ok(migrations(self.0)) })
    }
}

fn migrations(sources: &'static [Source]) -> Vec<Migration> {
    sources
        .iter()
        .map(|s| {
            Migration::new(
                s.version,
                Cow::Borrowed(s.description),
                MigrationType::Simple,
                Cow::Borrowed(s.sql),
                s.no_tx,
            )
        })
        .collect()
}

fn sources(backend: Backend) -> &'static [Source] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

/// The migrator of one backend's dialect.
pub async fn migrator(backend: Backend) -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Embedded(sources(backend))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SHA-384 of the files as `sqlx::migrate!` recorded them in every
    /// database made before the folders merged (read from `_sqlx_migrations`
    /// of a SQLite and a PostgreSQL database migrated by that build). An
    /// applied migration must never change: sqlx refuses to open a database
    /// whose recorded checksum differs.
    const APPLIED: [(i64, &str, &str); 4] = [
        (1, "foundation", "726f43a8fb3dc876951bee42ce0013abed747a122ce7db10e9c2c3fe9479cde27f460ade819bf8637936306876c6e672"),
        (2, "social clubs rooms events", "0deb52dbda7cbc408d0df375c2526c8fcc6d016a55e10c82792dce70861fee1f0e99e119656d8c0460a58f7563cb0b82"),
        (3, "room controls", "9dae0826b9ade905c6761a96aebcd35546fad86c806cbb34d0cf5330c857cf4cb6f5f4a63feaa3b26062a88354869bfe"),
        (4, "app services", "dd0a4d188c67b4dca2c614c25b3276031f8992c14ca3316b39bd5f38d16673d27978e0d87f1b61ef40e4852a727fd9a2"),
    ];

    #[actix_rt::test]
    async fn applied_checksums_are_pinned() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let migrator = migrator(backend).await.unwrap();
            let listed: Vec<_> = migrator.iter().collect();
            assert!(listed.len() >= APPLIED.len(), "{backend:?}");
            for ((version, description, checksum), m) in APPLIED.iter().zip(&listed) {
                assert_eq!(m.version, *version, "{backend:?}");
                assert_eq!(m.description, *description, "{backend:?}");
                assert_eq!(hex::encode(&m.checksum), *checksum, "{backend:?} {version}");
            }
        }
    }

    #[test]
    fn versions_increase_and_match_between_dialects() {
        let versions = |s: &[Source]| s.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(versions(SQLITE), versions(POSTGRES));
        assert!(versions(SQLITE).windows(2).all(|w| w[0] < w[1]));
    }
}
