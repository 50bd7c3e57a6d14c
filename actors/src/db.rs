//! The database handle. One code path serves both backends through sqlx's `Any`
//! driver: SQLite (the embedded default, a file created on first start, WAL,
//! foreign keys on) and PostgreSQL (selected by a `postgres://` URL). Queries use
//! `$n` placeholders and types both backends share (TEXT, BIGINT); the schema is
//! one set of migrations with per-dialect files only where a dialect needs its
//! own SQL ([`crate::migrations`]).

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

use crate::repo::RepoError;

/// Which database a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://path` (the embedded default).
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
}

impl Backend {
    /// Picks the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> Result<Self, RepoError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(RepoError::Config(format!(
                "unsupported database URL scheme (want sqlite:// or postgres://): {}",
                redact_url(url)
            )))
        }
    }
}

/// Pool tuning.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Upper bound of open connections.
    pub max_connections: u32,
    /// How long a request may wait for a connection before failing with 503.
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// A connection pool plus the backend it talks to.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

/// Query parameters of a connection URL whose value is a secret (libpq and
/// sqlx read `password` and `sslpassword` from the query too).
fn secret_param(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "token"]
        .iter()
        .any(|w| key.contains(w))
}

/// A database or Redis URL as logs may show it: the password (in the user
/// part or a `password`-like query parameter) replaced by `***`. A URL that
/// does not parse but could hold credentials prints as `***`.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return if url.contains('@') || url.contains('?') {
            "***".to_owned()
        } else {
            url.to_owned()
        };
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed.query_pairs().any(|(k, _)| secret_param(&k)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret_param(&k) { "***".into() } else { v };
                (k.into_owned(), v.into_owned())
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

/// SQLite URLs get `mode=rwc` so that the file is created when missing.
fn with_create_mode(url: &str) -> String {
    if url.contains(":memory:") || url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

impl Db {
    /// Opens a pool. SQLite files are created if missing.
    pub async fn connect(url: &str, options: &DbOptions) -> Result<Self, RepoError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite => with_create_mode(url),
            Backend::Postgres => url.to_owned(),
        };
        let connect_options: AnyConnectOptions = url
            .parse::<AnyConnectOptions>()
            .map_err(|e| RepoError::Config(format!("bad database URL {}: {e}", redact_url(&url))))?
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            // A pooled SQLite connection is a file handle that cannot go
            // stale, and its ping is a round trip to sqlx's worker thread
            // (about a third of the context switches of a small read, see
            // docs/performance.md). A PostgreSQL connection can die with the
            // server, so it is still checked before use.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(connect_options)
            .await?;
        Ok(Self { pool, backend })
    }

    /// Applies every pending migration of this backend's dialect.
    pub async fn migrate(&self) -> Result<(), RepoError> {
        crate::migrations::migrator(self.backend)
            .await
            .map_err(|e| RepoError::Migration(e.to_string()))?
            .run(&self.pool)
            .await
            .map_err(|e| RepoError::Migration(e.to_string()))
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock
    /// up front (`BEGIN IMMEDIATE`): a deferred transaction that reads first
    /// cannot upgrade while another connection writes and fails at once with
    /// SQLITE_BUSY, whereas an immediate one waits out the busy timeout.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, RepoError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_url() {
        assert_eq!(
            Backend::from_url("sqlite://huddle.db").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert!(Backend::from_url("mysql://u@h/db").is_err());
    }

    #[test]
    fn sqlite_urls_create_the_file() {
        assert_eq!(with_create_mode("sqlite://a.db"), "sqlite://a.db?mode=rwc");
        assert_eq!(
            with_create_mode("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            with_create_mode("sqlite://a.db?mode=ro"),
            "sqlite://a.db?mode=ro"
        );
    }

    async fn sqlite_with_a_row() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
        db.migrate().await.unwrap();
        sqlx::query("INSERT INTO settings (key, value, created_at) VALUES ('n', '0', 0)")
            .execute(db.pool())
            .await
            .unwrap();
        (dir, db)
    }

    /// Transaction A reads, another writer tries to commit meanwhile, then A
    /// writes. `begin_write` makes the other writer wait, so A's write succeeds.
    async fn read_then_write_beside_another_writer(
        a: sqlx::Transaction<'static, sqlx::Any>,
        db: &Db,
    ) -> Result<(), sqlx::Error> {
        let mut a = a;
        let v: String = sqlx::query_scalar("SELECT value FROM settings WHERE key = 'n'")
            .fetch_one(&mut *a)
            .await?;
        let other_db = db.clone();
        let other = tokio::spawn(async move {
            let mut b = other_db.begin_write().await?;
            sqlx::query("INSERT INTO settings (key, value, created_at) VALUES ('m', '1', 0)")
                .execute(&mut *b)
                .await?;
            b.commit().await?;
            Ok::<_, RepoError>(())
        });
        // Give the other writer the chance to commit between A's read and write.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let written = sqlx::query("UPDATE settings SET value = $1 WHERE key = 'n'")
            .bind(format!("{v}1"))
            .execute(&mut *a)
            .await;
        let committed = match written {
            Ok(_) => a.commit().await,
            Err(e) => Err(e),
        };
        other.await.unwrap().unwrap();
        committed
    }

    #[actix_rt::test]
    async fn write_transactions_that_read_first_survive_a_concurrent_writer() {
        let (_dir, db) = sqlite_with_a_row().await;
        let a = db.begin_write().await.unwrap();
        read_then_write_beside_another_writer(a, &db).await.unwrap();
    }

    /// The control: a deferred transaction fails at once in the same situation
    /// (SQLITE_BUSY, "database is locked"), which is why `begin_write` exists.
    #[actix_rt::test]
    async fn deferred_transactions_fail_in_the_same_situation() {
        let (_dir, db) = sqlite_with_a_row().await;
        let a = db.pool().begin().await.unwrap();
        let err = read_then_write_beside_another_writer(a, &db)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("database is locked"), "{err}");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://huddle.db"), "sqlite://huddle.db");
    }
}
