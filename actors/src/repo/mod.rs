//! The repository actor: the only code in huddle that touches sqlx.
//!
//! Every operation is one typed message (`FindSession`, `CreateAccount`, ...)
//! defined beside its query in a submodule; [`Repo`] is the cheap, cloneable
//! handle that sends them. The handle spreads messages over a few actors, each
//! on its own arbiter (thread), so decoding rows never serialises the whole
//! server on one thread; all of them share one connection pool. Changes that
//! touch several rows run in a transaction inside one message.

pub mod account;
pub mod app;
pub mod club;
pub mod event;
pub mod message;
pub mod page;
pub mod profile;
pub mod room;
mod row;
pub mod session;
pub mod settings;
pub mod social;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix::prelude::*;

use crate::db::Db;

/// What can go wrong in the persistence layer.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The database cannot be reached or has no free connection in time.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A uniqueness rule was broken (e.g. two accounts for one mobile).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Any other database error (a bug or a broken schema).
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// A stored value did not have the shape the code expects.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Bad configuration (e.g. an unsupported URL).
    #[error("{0}")]
    Config(String),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The repository actor is gone (the server is shutting down).
    #[error("repository actor unavailable: {0}")]
    Mailbox(#[from] MailboxError),
}

impl From<sqlx::Error> for RepoError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(e),
            // PostgreSQL going away: connection exceptions (08…) and operator
            // intervention (57…: shutdown, admin termination, crash recovery).
            sqlx::Error::Database(ref db)
                if db
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57")) =>
            {
                Self::Unavailable(e)
            }
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                Self::Conflict(db.message().to_owned())
            }
            other => Self::Database(other),
        }
    }
}

impl From<crate::ids::IdError> for RepoError {
    fn from(e: crate::ids::IdError) -> Self {
        Self::Corrupt(e.to_string())
    }
}

/// The result type of every repository message.
pub type RepoResult<T> = Result<T, RepoError>;

/// Holds the pool; handles one message per operation.
pub struct RepoActor {
    db: Db,
}

impl Actor for RepoActor {
    type Context = Context<Self>;
}

/// Implements `Handler<Msg>` for [`RepoActor`] by running an async query
/// function `fn(Db, Msg) -> RepoResult<T>` on the actor's arbiter.
macro_rules! repo_handlers {
    ($($msg:ty => $query:path),* $(,)?) => {
        $(
            impl actix::Handler<$msg> for $crate::repo::RepoActor {
                type Result = actix::ResponseFuture<<$msg as actix::Message>::Result>;
                fn handle(&mut self, msg: $msg, _: &mut Self::Context) -> Self::Result {
                    let db = self.db().clone();
                    Box::pin(async move { $query(db, msg).await })
                }
            }
        )*
    };
}
pub(crate) use repo_handlers;

impl RepoActor {
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }
}

/// Running one statement on the pool, the ending of most query functions.
pub(crate) trait Statement {
    /// Runs it; answers how many rows it changed.
    async fn changed(self, db: &Db) -> RepoResult<u64>;
    /// Runs it.
    async fn run(self, db: &Db) -> RepoResult<()>;
}

impl<'q> Statement for sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    async fn changed(self, db: &Db) -> RepoResult<u64> {
        Ok(self.execute(db.pool()).await?.rows_affected())
    }

    async fn run(self, db: &Db) -> RepoResult<()> {
        self.changed(db).await.map(drop)
    }
}

/// Liveness probe of the database (`/readyz`).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct Ping;

async fn ping(db: Db, _: Ping) -> RepoResult<()> {
    sqlx::query("SELECT 1").run(&db).await
}

repo_handlers!(Ping => ping);

/// The handle the rest of huddle uses to reach the repository actors.
#[derive(Clone)]
pub struct Repo {
    actors: Arc<[Addr<RepoActor>]>,
    arbiters: Arc<[ArbiterHandle]>,
    next: Arc<AtomicUsize>,
    db: Db,
}

impl Repo {
    /// Starts `actors` repository actors (at least one), each on its own arbiter.
    /// Must be called inside a running actix `System`.
    pub fn start(db: Db, actors: usize) -> Self {
        let arbiters: Vec<ArbiterHandle> = (0..actors.max(1))
            .map(|_| Arbiter::new().handle())
            .collect();
        let addrs: Vec<Addr<RepoActor>> = arbiters
            .iter()
            .map(|arbiter| {
                let db = db.clone();
                RepoActor::start_in_arbiter(arbiter, move |_| RepoActor { db })
            })
            .collect();
        Self {
            actors: addrs.into(),
            arbiters: arbiters.into(),
            next: Arc::new(AtomicUsize::new(0)),
            db,
        }
    }

    /// Sends one operation and waits for its result.
    pub async fn run<M, T>(&self, msg: M) -> RepoResult<T>
    where
        M: Message<Result = RepoResult<T>> + Send + 'static,
        T: Send + 'static,
        RepoActor: Handler<M>,
    {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.actors.len();
        self.actors[i].send(msg).await?
    }

    /// Stops the repository actors' threads (after the server stopped).
    pub fn stop(&self) {
        for arbiter in self.arbiters.iter() {
            arbiter.stop();
        }
    }

    /// The database (for shutdown).
    pub fn db(&self) -> &Db {
        &self.db
    }
}
