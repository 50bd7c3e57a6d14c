//! Reading rows into the model's types, each column named once.
//!
//! A row mapper is `from_row! { row, Club { club_id, uid, name, … } }`: every
//! field is read from the column of the same name (with a prefix for aliased
//! columns, `from_row! { row, "v_", UserView { … } }`), decoded by the
//! field's type through [`Column`]: ids are parsed (a corrupt id is a
//! [`RepoError`](super::RepoError), never a panic), `bool` is a 0/1 `BIGINT`
//! (or a count read as "any"), strings and integers are read as they are.
//! Before, every mapper spelled each field twice
//! (`club_id: ClubId::parse(&row.try_get::<String, _>("club_id")?)?`) and the
//! id and flag conversions were written out in every file. The invocations use
//! braces so that a mapper stays one line (rustfmt leaves brace macros alone).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::RepoResult;
use crate::ids::{ClubId, EventId, ImageId, RoomCacheId, RoomId, SessionId, Uid, VersionId};

/// A type a column can be read as.
pub(crate) trait Column: Sized {
    /// Reads column `name` of `row`.
    fn read(row: &AnyRow, name: &str) -> RepoResult<Self>;
}

/// Types sqlx decodes directly.
macro_rules! decoded {
    ($($ty:ty),*) => {$(
        impl Column for $ty {
            fn read(row: &AnyRow, name: &str) -> RepoResult<Self> {
                Ok(row.try_get(name)?)
            }
        }
    )*};
}
decoded!(String, i64, Option<String>, Option<i64>);

/// A flag stored as a `BIGINT` (0 = false); also a count read as "any".
impl Column for bool {
    fn read(row: &AnyRow, name: &str) -> RepoResult<Self> {
        Ok(row.try_get::<i64, _>(name)? != 0)
    }
}

/// Typed ids, stored as `TEXT` and parsed on the way out.
macro_rules! ids {
    ($($id:ty),*) => {$(
        impl Column for $id {
            fn read(row: &AnyRow, name: &str) -> RepoResult<Self> {
                Ok(<$id>::parse(&row.try_get::<String, _>(name)?)?)
            }
        }

        impl Column for Option<$id> {
            fn read(row: &AnyRow, name: &str) -> RepoResult<Self> {
                let text: Option<String> = row.try_get(name)?;
                Ok(text.as_deref().map(<$id>::parse).transpose()?)
            }
        }
    )*};
}
ids!(
    Uid,
    SessionId,
    ClubId,
    RoomId,
    EventId,
    RoomCacheId,
    ImageId,
    VersionId
);

/// Reads column `name` of `row` as `T` (for tuples; structs use [`from_row!`]).
pub(crate) fn column<T: Column>(row: &AnyRow, name: &str) -> RepoResult<T> {
    T::read(row, name)
}

/// Builds a struct from a row: `from_row! { row, Type { field, … } }` reads
/// each field from the column of its name, `from_row! { row, "p_", Type { … } }`
/// from `p_<field>`; `; other: expr, …` after the columns sets fields that are
/// not columns. It is `Ok(Type { … })`, each read's error returned by `?` from
/// the function (or closure) it stands in.
macro_rules! from_row {
    ($row:expr, $prefix:literal, $ty:ident { $($field:ident),* $(,)? $(; $($other:ident: $value:expr),* $(,)?)? }) => {
        Ok($ty {
            $($field: $crate::repo::row::Column::read($row, concat!($prefix, stringify!($field)))?,)*
            $($($other: $value,)*)?
        })
    };
    ($row:expr, $ty:ident { $($body:tt)* }) => {
        $crate::repo::row::from_row!($row, "", $ty { $($body)* })
    };
}
pub(crate) use from_row;
