//! The app's own records: uploaded images, push registrations, published app
//! versions, feedback, reports and link previews.

use actix::Message;

use super::row::from_row;
use super::{repo_handlers, RepoError, RepoResult, Statement};
use crate::db::Db;
use crate::ids::{ImageId, Uid, VersionId};

/// An upload address was handed out for this image.
#[derive(Message, Debug, Clone)]
#[rtype(result = "RepoResult<()>")]
pub struct RecordImage {
    /// The image.
    pub image_id: ImageId,
    /// Its owner.
    pub uid: Uid,
    /// `avatar`, `cover`, `room` or `feedback`.
    pub dir: String,
    /// `image/{uid}/{dir}/{imageId}.jpg`.
    pub object_key: String,
    /// Where it will be readable.
    pub image_url: String,
    /// Now (ms).
    pub now: i64,
}

async fn record_image(db: Db, m: RecordImage) -> RepoResult<()> {
    sqlx::query("INSERT INTO images (image_id, uid, image_dir, object_key, image_url, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(m.image_id.as_str())
        .bind(m.uid.as_str())
        .bind(&m.dir)
        .bind(&m.object_key)
        .bind(&m.image_url)
        .bind(m.now)
        .run(&db)
        .await
}

/// The local store received the bytes of `object_key`; false when no upload
/// address was ever handed out for it.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<bool>")]
pub struct MarkImageUploaded {
    /// The object.
    pub object_key: String,
    /// Now (ms).
    pub now: i64,
}

async fn mark_image_uploaded(db: Db, m: MarkImageUploaded) -> RepoResult<bool> {
    let done = sqlx::query("UPDATE images SET uploaded_at = $1 WHERE object_key = $2")
        .bind(m.now)
        .bind(&m.object_key)
        .changed(&db)
        .await?;
    Ok(done == 1)
}

/// Resolves references to `uid`'s images, each an `imageId` or an
/// `imageURL`; answers the ids in order, or `Err(reference)` for the first
/// that is not one of `uid`'s images.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Result<Vec<ImageId>, String>>")]
pub struct ResolveImages {
    /// The owner.
    pub uid: Uid,
    /// Ids or URLs.
    pub refs: Vec<String>,
}

async fn resolve_images(db: Db, m: ResolveImages) -> RepoResult<Result<Vec<ImageId>, String>> {
    let mut ids = Vec::with_capacity(m.refs.len());
    for reference in m.refs {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT image_id FROM images WHERE uid = $1 AND (image_id = $2 OR image_url = $2)",
        )
        .bind(m.uid.as_str())
        .bind(&reference)
        .fetch_optional(db.pool())
        .await?;
        match found {
            Some(id) => ids.push(ImageId::parse(&id)?),
            None => return Ok(Err(reference)),
        }
    }
    Ok(Ok(ids))
}

/// Binds a push registration id to `uid` on `client_type`: the id leaves any
/// other user, and replaces `uid`'s previous id on that client type.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct BindPush {
    /// The provider's registration id.
    pub registration_id: String,
    /// The user.
    pub uid: Uid,
    /// 0 Web, 1 iOS, 2 Android.
    pub client_type: i64,
    /// Now (ms).
    pub now: i64,
}

async fn bind_push(db: Db, m: BindPush) -> RepoResult<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM push_registrations WHERE registration_id = $1 OR (uid = $2 AND client_type = $3)")
        .bind(&m.registration_id)
        .bind(m.uid.as_str())
        .bind(m.client_type)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO push_registrations (registration_id, uid, client_type, updated_at) VALUES ($1, $2, $3, $4)")
        .bind(&m.registration_id)
        .bind(m.uid.as_str())
        .bind(m.client_type)
        .bind(m.now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A device to push to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTarget {
    /// The provider's registration id.
    pub registration_id: String,
    /// 0 Web, 1 iOS, 2 Android.
    pub client_type: i64,
}

/// The devices registered for `uid`.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<PushTarget>>")]
pub struct PushTargets {
    /// The user.
    pub uid: Uid,
}

async fn push_targets(db: Db, m: PushTargets) -> RepoResult<Vec<PushTarget>> {
    let rows = sqlx::query("SELECT registration_id, client_type FROM push_registrations WHERE uid = $1 ORDER BY client_type")
        .bind(m.uid.as_str())
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| {
            from_row! { r, PushTarget { registration_id, client_type } }
        })
        .collect()
}

/// A published app version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppVersion {
    /// Id.
    pub version_id: VersionId,
    /// 0 Web, 1 iOS, 2 Android.
    pub client_type: i64,
    /// Monotonic build number.
    pub version_code: i64,
    /// Display name (`0.1.7`).
    pub version_name: String,
    /// Release notes.
    pub version_desc: String,
    /// Store or download address.
    pub download_url: String,
    /// 1 when older versions must upgrade.
    pub forced_upgrade: i64,
    /// Publication time (ms).
    pub created_at: i64,
}

const VERSION_COLUMNS: &str = "version_id, client_type, version_code, version_name, version_desc, download_url, forced_upgrade, created_at";

fn app_version(r: &sqlx::any::AnyRow) -> RepoResult<AppVersion> {
    from_row! { r, AppVersion {
        version_id, client_type, version_code, version_name, version_desc, download_url,
        forced_upgrade, created_at,
    } }
}

/// Publishes a version; a second version with the same client type and code
/// is a [`RepoError::Conflict`].
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct AddAppVersion(pub AppVersion);

async fn add_app_version(db: Db, m: AddAppVersion) -> RepoResult<()> {
    let v = m.0;
    sqlx::query(&format!(
        "INSERT INTO app_versions ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(v.version_id.as_str())
    .bind(v.client_type)
    .bind(v.version_code)
    .bind(&v.version_name)
    .bind(&v.version_desc)
    .bind(&v.download_url)
    .bind(v.forced_upgrade)
    .bind(v.created_at)
    .run(&db)
    .await
}

/// Every published version, newest first (optionally of one client type).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Vec<AppVersion>>")]
pub struct ListAppVersions {
    /// Only this client type.
    pub client_type: Option<i64>,
}

async fn list_app_versions(db: Db, m: ListAppVersions) -> RepoResult<Vec<AppVersion>> {
    let rows = sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM app_versions WHERE ($1 < 0 OR client_type = $1) \
         ORDER BY client_type, version_code DESC"
    ))
    .bind(m.client_type.unwrap_or(-1))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(app_version).collect()
}

/// The newest version (highest code) for a client type.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Option<AppVersion>>")]
pub struct LatestAppVersion {
    /// 0 Web, 1 iOS, 2 Android.
    pub client_type: i64,
}

async fn latest_app_version(db: Db, m: LatestAppVersion) -> RepoResult<Option<AppVersion>> {
    let row = sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM app_versions WHERE client_type = $1 \
         ORDER BY version_code DESC LIMIT 1"
    ))
    .bind(m.client_type)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(app_version).transpose()
}

/// Withdraws a version; false when there was none.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<bool>")]
pub struct RemoveAppVersion {
    /// Which.
    pub version_id: VersionId,
}

async fn remove_app_version(db: Db, m: RemoveAppVersion) -> RepoResult<bool> {
    let done = sqlx::query("DELETE FROM app_versions WHERE version_id = $1")
        .bind(m.version_id.as_str())
        .changed(&db)
        .await?;
    Ok(done == 1)
}

/// Feedback from a user (反馈).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct AddFeedback {
    /// Who.
    pub uid: Uid,
    /// 0 App, 1 Room.
    pub origin_type: i64,
    /// The app, or the room's id.
    pub origin_id: String,
    /// Category (0 default).
    pub feedback_type: i64,
    /// At most 500 characters.
    pub content: String,
    /// Attached images (the caller's uploads).
    pub images: Vec<ImageId>,
    /// Now (ms).
    pub now: i64,
}

async fn add_feedback(db: Db, m: AddFeedback) -> RepoResult<()> {
    let images = serde_json::to_string(&m.images.iter().map(ImageId::as_str).collect::<Vec<_>>())
        .map_err(|e| RepoError::Corrupt(e.to_string()))?;
    sqlx::query("INSERT INTO feedback (feedback_id, uid, origin_type, origin_id, feedback_type, content, image_ids, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(crate::ids::random_hex32())
        .bind(m.uid.as_str())
        .bind(m.origin_type)
        .bind(&m.origin_id)
        .bind(m.feedback_type)
        .bind(&m.content)
        .bind(images)
        .bind(m.now)
        .run(&db)
        .await
}

/// A report of a user or a room (投诉).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct AddReport {
    /// Who reports.
    pub uid: Uid,
    /// 1 user, 2 room.
    pub origin_type: i64,
    /// The reported user's or room's id.
    pub origin_id: String,
    /// 1..=5.
    pub reason_type: i64,
    /// Free text.
    pub reason: String,
    /// Now (ms).
    pub now: i64,
}

async fn add_report(db: Db, m: AddReport) -> RepoResult<()> {
    sqlx::query("INSERT INTO reports (report_id, uid, origin_type, origin_id, reason_type, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(crate::ids::random_hex32())
        .bind(m.uid.as_str())
        .bind(m.origin_type)
        .bind(&m.origin_id)
        .bind(m.reason_type)
        .bind(&m.reason)
        .bind(m.now)
        .run(&db)
        .await
}

/// Counts of feedback and reports a user filed (for operators and tests).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<(i64, i64)>")]
pub struct CountFiled {
    /// The user.
    pub uid: Uid,
}

async fn count_filed(db: Db, m: CountFiled) -> RepoResult<(i64, i64)> {
    let feedback: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM feedback WHERE uid = $1")
        .bind(m.uid.as_str())
        .fetch_one(db.pool())
        .await?;
    let reports: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE uid = $1")
        .bind(m.uid.as_str())
        .fetch_one(db.pool())
        .await?;
    Ok((feedback, reports))
}

/// A page's preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPreview {
    /// The final address (after redirects).
    pub url: String,
    /// `og:title` or `<title>`.
    pub title: String,
    /// `og:description` or `<meta name=description>`.
    pub description: String,
    /// `og:image`, absolute.
    pub image: String,
}

/// The cached preview of a link, by md5.
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<Option<LinkPreview>>")]
pub struct GetLinkPreview {
    /// md5 of the link.
    pub link_md5: String,
}

async fn get_link_preview(db: Db, m: GetLinkPreview) -> RepoResult<Option<LinkPreview>> {
    let row =
        sqlx::query("SELECT url, title, description, image FROM link_previews WHERE link_md5 = $1")
            .bind(&m.link_md5)
            .fetch_optional(db.pool())
            .await?;
    row.map(|r| {
        from_row! { &r, LinkPreview { url, title, description, image } }
    })
    .transpose()
}

/// Caches a preview (the first one stored wins).
#[derive(Message, Debug)]
#[rtype(result = "RepoResult<()>")]
pub struct PutLinkPreview {
    /// md5 of the link.
    pub link_md5: String,
    /// The preview.
    pub preview: LinkPreview,
    /// Now (ms).
    pub now: i64,
}

async fn put_link_preview(db: Db, m: PutLinkPreview) -> RepoResult<()> {
    sqlx::query("INSERT INTO link_previews (link_md5, url, title, description, image, fetched_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (link_md5) DO NOTHING")
        .bind(&m.link_md5)
        .bind(&m.preview.url)
        .bind(&m.preview.title)
        .bind(&m.preview.description)
        .bind(&m.preview.image)
        .bind(m.now)
        .run(&db)
        .await
}

repo_handlers!(
    RecordImage => record_image,
    MarkImageUploaded => mark_image_uploaded,
    ResolveImages => resolve_images,
    BindPush => bind_push,
    PushTargets => push_targets,
    AddAppVersion => add_app_version,
    ListAppVersions => list_app_versions,
    LatestAppVersion => latest_app_version,
    RemoveAppVersion => remove_app_version,
    AddFeedback => add_feedback,
    AddReport => add_report,
    CountFiled => count_filed,
    GetLinkPreview => get_link_preview,
    PutLinkPreview => put_link_preview,
);
