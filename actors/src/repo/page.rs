//! Keyset pages, newest first. A cursor is the last item's `(created_at, id)`
//! (`sequenceId` "ms:id" on the wire), so inserts between two calls never make
//! a later page repeat or skip an item.

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
    pub(crate) fn bounds(&self) -> (i64, String) {
        self.before.clone().unwrap_or((i64::MAX, String::new()))
    }
}

/// `AND (col_t < $a OR (col_t = $a AND col_id < $b))` for the given placeholders.
pub(crate) fn keyset(col_t: &str, col_id: &str, a: usize, b: usize) -> String {
    format!("({col_t} < ${a} OR ({col_t} = ${a} AND {col_id} < ${b}))")
}
