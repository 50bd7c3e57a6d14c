//! Cursor pages (`lastId`, `count`) and the `{"page": {"count"}, "list"}` result.

use std::future::Future;

use huddle_actors::repo::page::PageQuery;
use huddle_actors::repo::{RepoActor, RepoResult};
use serde::Serialize;

use super::inputs::{inputs, FromParams, Param, Ranged};
use super::openapi::Ty;
use crate::auth::Params;
use crate::envelope::{ok, ApiError, ApiResult};
use crate::state::AppState;

/// Largest page.
pub const MAX_COUNT: i64 = 100;

/// `count`: 0..=[`MAX_COUNT`].
pub type Count = Ranged<0, MAX_COUNT>;

inputs! {
    /// A page whose cursor is a `sequenceId` "ms:id".
    pub struct KeysetPage {
        count: required Count = "count", Query, "Items per page (newest first); echoed in `result.page.count`.";
        last_id: optional SequenceCursor = "lastId", Query, "Absent: the first page. Otherwise the `sequenceId` of the previous page's last item.";
    }
}

inputs! {
    /// A page whose cursor is a numeric `sequenceId` (messages).
    pub struct NumericPage {
        count: required Count = "count", Query, "Items per page (newest first); echoed in `result.page.count`.";
        last_id: optional NumericCursor = "lastId", Query, "Absent: the first page. Otherwise the numeric `sequenceId` of the previous page's last item.";
    }
}

/// A `sequenceId` "ms:id" of a previous page's last item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceCursor((i64, String));

impl Param for SequenceCursor {
    const TY: Ty = Ty::Text(0);
    fn decode(_key: &'static str, text: &str) -> Result<Self, ApiError> {
        parse_sequence_id(text).map(Self)
    }
}

/// A numeric `sequenceId` of a previous page's last item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumericCursor(i64);

impl Param for NumericCursor {
    const TY: Ty = Ty::Text(0);
    fn decode(_key: &'static str, text: &str) -> Result<Self, ApiError> {
        text.parse::<i64>().map(Self).map_err(|_| {
            ApiError::BadRequest(
                "lastId must be the sequenceId of the previous page's last item".into(),
            )
        })
    }
}

/// `result.page`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageInfo {
    /// The requested count, echoed.
    pub count: i64,
}

/// `result` of every list route.
#[derive(Debug, Serialize)]
pub struct PageResult<T: Serialize> {
    /// Echo of the request.
    pub page: PageInfo,
    /// The items, newest first.
    pub list: Vec<T>,
}

impl<T: Serialize> PageResult<T> {
    /// A page answering `count`.
    pub fn new(count: i64, list: Vec<T>) -> Self {
        Self {
            page: PageInfo { count },
            list,
        }
    }
}

/// [`KeysetPage`] as the repository's query.
pub fn keyset(params: &Params) -> Result<PageQuery, ApiError> {
    let page = KeysetPage::from_params(params)?;
    Ok(PageQuery {
        count: page.count.get(),
        before: page.last_id.map(|SequenceCursor(cursor)| cursor),
    })
}

/// A keyset-paged list route: the page `params` ask for, the repository's
/// rows for it (`query`), each row made an item by `item`, in order.
pub async fn keyset_list<M, R, T, Fut>(
    state: &AppState,
    params: &Params,
    query: impl FnOnce(PageQuery) -> M,
    mut item: impl FnMut(R) -> Fut,
) -> ApiResult
where
    M: actix::Message<Result = RepoResult<Vec<R>>> + Send + 'static,
    RepoActor: actix::Handler<M>,
    R: Send + 'static,
    Fut: Future<Output = Result<T, ApiError>>,
    T: Serialize,
{
    let page = keyset(params)?;
    let count = page.count;
    let rows = state.repo.run(query(page)).await?;
    let mut list = Vec::with_capacity(rows.len());
    for row in rows {
        list.push(item(row).await?);
    }
    ok(PageResult::new(count, list))
}

/// [`NumericPage`] as `(count, before)`.
pub fn numeric(params: &Params) -> Result<(i64, Option<i64>), ApiError> {
    let page = NumericPage::from_params(params)?;
    Ok((page.count.get(), page.last_id.map(|NumericCursor(id)| id)))
}

/// `"<ms>:<id>"`.
pub fn sequence_id(created_at: i64, id: &str) -> String {
    format!("{created_at}:{id}")
}

fn parse_sequence_id(text: &str) -> Result<(i64, String), ApiError> {
    let bad = || {
        ApiError::BadRequest(
            "lastId must be the sequenceId of the previous page's last item".into(),
        )
    };
    let (t, id) = text.split_once(':').ok_or_else(bad)?;
    let t = t.parse::<i64>().map_err(|_| bad())?;
    if !huddle_actors::ids::is_hex32(id) {
        return Err(bad());
    }
    Ok((t, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::params::BodyKind;

    fn params(q: &str) -> Params {
        Params::parse(q, BodyKind::None, b"").unwrap()
    }

    #[test]
    fn counts_and_cursors() {
        assert_eq!(keyset(&params("count=0")).unwrap().count, 0);
        assert_eq!(keyset(&params("count=100")).unwrap().count, 100);
        assert!(keyset(&params("count=101")).is_err());
        assert!(keyset(&params("count=-1")).is_err());
        assert!(keyset(&params("")).is_err());
        let p = keyset(&params(
            "count=2&lastId=1616747477657:250228d2eb8e4db8b4fc6b8e3e2a902d",
        ))
        .unwrap();
        assert_eq!(
            p.before,
            Some((1616747477657, "250228d2eb8e4db8b4fc6b8e3e2a902d".into()))
        );
        assert!(keyset(&params("count=2&lastId=abc")).is_err());
        assert!(keyset(&params("count=2&lastId=1:XYZ")).is_err());
        assert_eq!(
            numeric(&params("count=2&lastId=1617987103601000")).unwrap(),
            (2, Some(1617987103601000))
        );
        assert!(numeric(&params("count=2&lastId=x")).is_err());
    }
}
