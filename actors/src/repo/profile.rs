//! Profiles and the user views shown to a viewer (`userProfileResult`).

use actix::Message;
use sqlx::any::AnyRow;

use super::row::from_row;
use super::{repo_handlers, RepoResult, Statement};
use crate::db::Db;
use crate::ids::Uid;

/// A user as a viewer sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    /// Whose profile.
    pub uid: Uid,
    /// Display name.
    pub nickname: String,
    /// Avatar URL.
    pub avatar: String,
    /// Self-description.
    pub bio: String,
    /// Cards this user has received.
    pub card_total: i64,
    /// The viewer has sent this user the viewer's card.
    pub send_card: bool,
    /// The viewer has blocked this user.
    pub blocked: bool,
}

/// Columns of a [`UserView`] of `p` (a `profiles` row) for the viewer bound as `$1`.
pub(crate) const USER_VIEW_COLUMNS: &str = "p.uid AS v_uid, p.nickname AS v_nickname, p.avatar AS v_avatar, p.bio AS v_bio, \
     (SELECT COUNT(*) FROM cards c WHERE c.holder_uid = p.uid) AS v_card_total, \
     CAST(CASE WHEN EXISTS (SELECT 1 FROM cards c WHERE c.holder_uid = p.uid AND c.owner_uid = $1) THEN 1 ELSE 0 END AS BIGINT) AS v_send_card, \
     CAST(CASE WHEN EXISTS (SELECT 1 FROM blocks b WHERE b.uid = $1 AND b.blocked_uid = p.uid) THEN 1 ELSE 0 END AS BIGINT) AS v_blocked";

pub(crate) fn user_view(row: &AnyRow) -> RepoResult<UserView> {
    from_row! { row, "v_", UserView { uid, nickname, avatar, bio, card_total, send_card, blocked } }
}

/// Creates a profile; answers false when the user already has one.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<bool>")]
pub struct InitProfile {
    /// Whose.
    pub uid: Uid,
    /// Display name.
    pub nickname: String,
    /// Avatar URL.
    pub avatar: String,
    /// Bio.
    pub bio: String,
    /// Now (ms).
    pub now: i64,
}

async fn init_profile(db: Db, m: InitProfile) -> RepoResult<bool> {
    let done = sqlx::query(
        "INSERT INTO profiles (uid, nickname, avatar, bio, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (uid) DO NOTHING",
    )
    .bind(m.uid.as_str())
    .bind(&m.nickname)
    .bind(&m.avatar)
    .bind(&m.bio)
    .bind(m.now)
    .changed(&db)
    .await?;
    Ok(done == 1)
}

/// Updates a profile; `bio: None` keeps the current bio. Answers false when there is no profile.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<bool>")]
pub struct UpdateProfile {
    /// Whose.
    pub uid: Uid,
    /// Display name.
    pub nickname: String,
    /// Avatar URL.
    pub avatar: String,
    /// New bio, or keep.
    pub bio: Option<String>,
    /// Now (ms).
    pub now: i64,
}

async fn update_profile(db: Db, m: UpdateProfile) -> RepoResult<bool> {
    let done = sqlx::query(
        "UPDATE profiles SET nickname = $1, avatar = $2, bio = COALESCE($3, bio), updated_at = $4 WHERE uid = $5",
    )
    .bind(&m.nickname)
    .bind(&m.avatar)
    .bind(m.bio)
    .bind(m.now)
    .bind(m.uid.as_str())
    .changed(&db)
    .await?;
    Ok(done == 1)
}

/// One user as `viewer` sees them; `None` when the user has no profile.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Option<UserView>>")]
pub struct GetUserView {
    /// Who looks.
    pub viewer: Uid,
    /// At whom.
    pub uid: Uid,
}

async fn get_user_view(db: Db, m: GetUserView) -> RepoResult<Option<UserView>> {
    let sql = format!("SELECT {USER_VIEW_COLUMNS} FROM profiles p WHERE p.uid = $2");
    let row = sqlx::query(&sql)
        .bind(m.viewer.as_str())
        .bind(m.uid.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(user_view).transpose()
}

/// Several users as `viewer` sees them, in the order asked (unknown ones left out).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<UserView>>")]
pub struct GetUserViews {
    /// Who looks.
    pub viewer: Uid,
    /// At whom.
    pub uids: Vec<Uid>,
}

async fn get_user_views(db: Db, m: GetUserViews) -> RepoResult<Vec<UserView>> {
    if m.uids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..m.uids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT {USER_VIEW_COLUMNS} FROM profiles p WHERE p.uid IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(m.viewer.as_str());
    for uid in &m.uids {
        query = query.bind(uid.as_str());
    }
    let rows = query.fetch_all(db.pool()).await?;
    let mut views: Vec<UserView> = rows.iter().map(user_view).collect::<RepoResult<_>>()?;
    views.sort_by_key(|v| m.uids.iter().position(|u| *u == v.uid));
    Ok(views)
}

repo_handlers!(
    InitProfile => init_profile,
    UpdateProfile => update_profile,
    GetUserView => get_user_view,
    GetUserViews => get_user_views,
);
