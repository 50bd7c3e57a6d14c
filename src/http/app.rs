//! Seed section "App": the newest app version, feedback, reports, link previews.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use huddle_actors::repo::app::{
    AddFeedback, AddReport, AppVersion, GetLinkPreview, LatestAppVersion, LinkPreview,
    PutLinkPreview, ResolveImages,
};
use huddle_actors::repo::room::GetRoom;
use huddle_actors::{RoomId, Uid};
use md5::{Digest, Md5};
use serde::Serialize;
use utoipa::ToSchema;

use super::user::existing_user;
use crate::auth::{text_limit, ClientInfo, Profiled};
use crate::clients::linkpreview::{normalise_link, PreviewError};
use crate::envelope::{ok, ok_with, ApiError, ApiResult, BusinessCode, Empty};
use crate::state::AppState;

/// Feedback text limit (characters).
pub const FEEDBACK_MAX: usize = 500;
/// Report reason limit (characters).
pub const REASON_MAX: usize = 500;
/// Images attached to one feedback.
pub const FEEDBACK_IMAGES_MAX: usize = 9;
/// Longest link previewed (characters).
pub const LINK_MAX: usize = 2048;

/// `/app/*`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/app/version/upgrade").get(upgrade))
        .service(web::resource("/app/feedback").post(feedback))
        .service(web::resource("/app/report").post(report))
        .service(web::resource("/app/link/preview/{linkMD5}").post(link_preview));
}

/// An app release.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppVersion)]
pub(crate) struct VersionJson {
    /// 1 iOS, 2 Android, 0 Web.
    client_type: i64,
    /// Published (ms since the epoch).
    create_time: i64,
    /// Where to get it.
    download_url: String,
    /// 1: older versions must upgrade.
    forced_upgrade: i64,
    /// Integer version.
    version_code: i64,
    /// Release notes.
    version_desc: String,
    /// The release (32 hex).
    version_id: String,
    /// Version string.
    version_name: String,
}

impl From<AppVersion> for VersionJson {
    fn from(v: AppVersion) -> Self {
        Self {
            client_type: v.client_type,
            create_time: v.created_at,
            download_url: v.download_url,
            forced_upgrade: v.forced_upgrade,
            version_code: v.version_code,
            version_desc: v.version_desc,
            version_id: v.version_id.to_string(),
            version_name: v.version_name,
        }
    }
}

/// "鉴权: 否, 参数校验: 否": no login and no signature; only `Client-Type`.
/// With no version published for the client type, `result` is `{}`.
async fn upgrade(state: web::Data<AppState>, req: HttpRequest) -> ApiResult {
    let client = ClientInfo::from_request(&req)?;
    let latest = state
        .repo
        .run(LatestAppVersion {
            client_type: client.client_type.code(),
        })
        .await?;
    match latest {
        Some(v) => ok(VersionJson::from(v)),
        None => ok(Empty {}),
    }
}

/// 0/1 style small enums: `key` must be one of `allowed`.
fn one_of(
    call: &Profiled,
    key: &str,
    allowed: std::ops::RangeInclusive<i64>,
) -> Result<i64, ApiError> {
    let v = call.params.int(key)?;
    if allowed.contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::BadRequest(format!(
            "{key} must be between {} and {}",
            allowed.start(),
            allowed.end()
        )))
    }
}

async fn existing_room(state: &AppState, text: &str) -> Result<RoomId, ApiError> {
    let room_id =
        RoomId::parse(text).map_err(|e| ApiError::BadRequest(format!("originId: {e}")))?;
    state
        .repo
        .run(GetRoom {
            room_id: room_id.clone(),
        })
        .await?
        .ok_or_else(|| ApiError::business(BusinessCode::RoomNotFound))?;
    Ok(room_id)
}

async fn feedback(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    let origin_type = one_of(&call, "originFeedbackType", 0..=1)?;
    let origin_id = call.params.required("originId")?.trim().to_owned();
    let origin_id = if origin_type == 1 {
        existing_room(&state, &origin_id).await?.to_string()
    } else {
        text_limit("originId", &origin_id, 64)?.to_owned()
    };
    let feedback_type = one_of(&call, "feedbackType", 0..=99)?;
    let content = call.params.required("feedbackContent")?.trim();
    if content.is_empty() {
        return Err(ApiError::BadRequest(
            "feedbackContent must not be empty".into(),
        ));
    }
    let content = text_limit("feedbackContent", content, FEEDBACK_MAX)?.to_owned();
    let refs = match call.params.optional("feedbackImageList") {
        Some(_) => call.params.string_list("feedbackImageList")?,
        None => Vec::new(),
    };
    if refs.len() > FEEDBACK_IMAGES_MAX {
        return Err(ApiError::BadRequest(format!(
            "feedbackImageList may hold at most {FEEDBACK_IMAGES_MAX} images"
        )));
    }
    let images = state
        .repo
        .run(ResolveImages {
            uid: call.uid.clone(),
            refs,
        })
        .await?
        .map_err(|bad| {
            ApiError::BadRequest(format!(
                "feedbackImageList: {bad:?} is not an image you uploaded (use its imageId or imageURL)"
            ))
        })?;
    state
        .repo
        .run(AddFeedback {
            uid: call.uid.clone(),
            origin_type,
            origin_id,
            feedback_type,
            content,
            images,
            now: state.clock.now_ms(),
        })
        .await?;
    ok_with(Empty {}, "反馈成功")
}

async fn report(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    let origin_type = one_of(&call, "originReportType", 1..=2)?;
    let origin_text = call.params.required("originId")?.trim();
    let origin_id = if origin_type == 1 {
        let uid =
            Uid::parse(origin_text).map_err(|e| ApiError::BadRequest(format!("originId: {e}")))?;
        if uid == call.uid {
            return Err(ApiError::BadRequest("you cannot report yourself".into()));
        }
        existing_user(&state, &call.uid, &uid).await?;
        uid.to_string()
    } else {
        existing_room(&state, origin_text).await?.to_string()
    };
    let reason_type = one_of(&call, "reportReasonType", 1..=5)?;
    let reason = call.params.required("reason")?.trim();
    if reason.is_empty() {
        return Err(ApiError::BadRequest("reason must not be empty".into()));
    }
    let reason = text_limit("reason", reason, REASON_MAX)?.to_owned();
    state
        .repo
        .run(AddReport {
            uid: call.uid.clone(),
            origin_type,
            origin_id,
            reason_type,
            reason,
            now: state.clock.now_ms(),
        })
        .await?;
    ok_with(Empty {}, "投诉成功")
}

/// A link's preview.
#[derive(Serialize, ToSchema)]
#[schema(as = LinkPreview)]
pub(crate) struct PreviewJson {
    /// Image URL.
    image: String,
    /// Description.
    description: String,
    /// Title.
    title: String,
    /// The page.
    url: String,
}

impl From<LinkPreview> for PreviewJson {
    fn from(p: LinkPreview) -> Self {
        Self {
            image: p.image,
            description: p.description,
            title: p.title,
            url: p.url,
        }
    }
}

async fn link_preview(
    state: web::Data<AppState>,
    call: Profiled,
    path: web::Path<String>,
) -> ApiResult {
    let link_md5 = path.into_inner();
    if !huddle_actors::ids::is_hex32(&link_md5) {
        return Err(ApiError::BadRequest(
            "linkMD5 must be 32 lowercase hex characters".into(),
        ));
    }
    let link = call.params.required("link")?;
    let link = normalise_link(text_limit("link", link, LINK_MAX)?);
    if hex::encode(Md5::digest(link.as_bytes())) != link_md5 {
        return Err(ApiError::BadRequest(format!(
            "linkMD5 is not the md5 of {link:?}"
        )));
    }
    if let Some(cached) = state
        .repo
        .run(GetLinkPreview {
            link_md5: link_md5.clone(),
        })
        .await?
    {
        return ok(PreviewJson::from(cached));
    }
    let preview = state.previews.fetch(&link).await.map_err(|e| match e {
        PreviewError::Refused(why) => ApiError::BadRequest(format!("link: {why}")),
        PreviewError::Timeout(_) => {
            tracing::info!(error = %e, "link preview timed out");
            ApiError::Status(StatusCode::GATEWAY_TIMEOUT)
        }
        PreviewError::Fetch(_) => ApiError::business_msg(BusinessCode::Default, e.to_string()),
    })?;
    state
        .repo
        .run(PutLinkPreview {
            link_md5,
            preview: preview.clone(),
            now: state.clock.now_ms(),
        })
        .await?;
    ok(PreviewJson::from(preview))
}
