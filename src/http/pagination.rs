//! Cursor pages (`lastId`, `count`) and the `{"page": {"count"}, "list"}` result.

use huddle_actors::repo::page::PageQuery;
use serde::Serialize;

use crate::auth::Params;
use crate::envelope::ApiError;

/// Largest page.
pub const MAX_COUNT: i64 = 100;

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

/// `count`: required, 0..=100.
pub fn count(params: &Params) -> Result<i64, ApiError> {
    let count = params.int("count")?;
    if !(0..=MAX_COUNT).contains(&count) {
        return Err(ApiError::BadRequest(format!(
            "count must be between 0 and {MAX_COUNT}"
        )));
    }
    Ok(count)
}

/// A page whose cursor is a `sequenceId` "ms:id".
pub fn keyset(params: &Params) -> Result<PageQuery, ApiError> {
    let count = count(params)?;
    let before = match params.optional("lastId") {
        None => None,
        Some(last) => Some(parse_sequence_id(last)?),
    };
    Ok(PageQuery { count, before })
}

/// A page whose cursor is a numeric `sequenceId` (messages).
pub fn numeric(params: &Params) -> Result<(i64, Option<i64>), ApiError> {
    let count = count(params)?;
    let before = params
        .optional("lastId")
        .map(|last| {
            last.parse::<i64>().map_err(|_| {
                ApiError::BadRequest(
                    "lastId must be the sequenceId of the previous page's last item".into(),
                )
            })
        })
        .transpose()?;
    Ok((count, before))
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
        assert_eq!(count(&params("count=0")).unwrap(), 0);
        assert_eq!(count(&params("count=100")).unwrap(), 100);
        assert!(count(&params("count=101")).is_err());
        assert!(count(&params("count=-1")).is_err());
        assert!(count(&params("")).is_err());
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
