//! Keyset pages, newest first. A cursor is the last item's `(created_at, id)`
//! (`sequenceId` "ms:id" on the wire), so inserts between two calls never make
//! a later page repeat or skip an item.
//!
//! A page query ends its `WHERE` with `newest_first` and runs through
//! `PageQuery::fetch`, which binds the cursor and the count after the
//! query's own parameters, so the placeholders and the ordering are written
//! once for every list.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::Any;

use super::RepoResult;
use crate::db::Db;

/// Which page to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    /// Items wanted (0..=100, validated at the edge).
    pub count: i64,
    /// Items strictly older than this `(created_at, id)`; `None` = first page.
    pub before: Option<(i64, String)>,
}

impl PageQuery {
    /// The first page of `count` items.
    pub fn first(count: i64) -> Self {
        Self {
            count,
            before: None,
        }
    }

    /// The cursor as bind values; the first page uses a bound above every row.
    fn bounds(&self) -> (i64, String) {
        self.before.clone().unwrap_or((i64::MAX, String::new()))
    }

    /// Runs `query` (whose SQL ends with [`newest_first`]) with the cursor and
    /// the count bound after its own parameters.
    pub(crate) async fn fetch<'q>(
        &self,
        db: &Db,
        query: Query<'q, Any, AnyArguments<'q>>,
    ) -> RepoResult<Vec<AnyRow>> {
        let (t, id) = self.bounds();
        Ok(query
            .bind(t)
            .bind(id)
            .bind(self.count)
            .fetch_all(db.pool())
            .await?)
    }
}

/// The end of a page's `WHERE`: the rows strictly older than the cursor,
/// newest first, at most the count, for a query with `own` parameters of its
/// own (the cursor is `$own+1`, `$own+2`, the count `$own+3`).
pub(crate) fn newest_first(col_t: &str, col_id: &str, own: usize) -> String {
    let (a, b, c) = (own + 1, own + 2, own + 3);
    format!(
        "({col_t} < ${a} OR ({col_t} = ${a} AND {col_id} < ${b})) \
         ORDER BY {col_t} DESC, {col_id} DESC LIMIT ${c}"
    )
}
