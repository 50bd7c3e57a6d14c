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

use super::inputs::{
    inputs, Deferred, FeedbackOrigin, FeedbackText, FromParams, ImageRefs, Link, Ranged,
    ReportReason,
};
use super::openapi::{
    envelope, of, param, Auth, Loc, Method, Res, RouteDoc, Tag, Ty, BASE, CLIENT_TYPE,
};
use super::user::existing_user;
use crate::auth::{ClientInfo, Profiled};
use crate::clients::linkpreview::{normalise_link, PreviewError};
use crate::envelope::{ok, ok_with, ApiError, ApiResult, BusinessCode, Empty, SUCCESS};
use crate::state::AppState;

/// `POST /app/feedback`'s message.
pub const FEEDBACK_SENT: &str = "反馈成功";
/// `POST /app/report`'s message.
pub const REPORTED: &str = "投诉成功";

inputs! {
    /// `POST /app/feedback`.
    pub struct Feedback {
        origin_type: required Ranged<0, 1> = "originFeedbackType", Body, "Where from (反馈来源类型): 0 App / 1 Room.";
        origin_id: required Deferred<FeedbackOrigin> = "originId", Body, "Source id (反馈来源ID): a roomId of an existing room when originFeedbackType is 1.";
        feedback_type: required Ranged<0, 99> = "feedbackType", Body, "Kind (反馈类型): 0 default.";
        content: required FeedbackText = "feedbackContent", Body, "The feedback (反馈内容).";
        images: optional ImageRefs = "feedbackImageList", Body, "Images I uploaded (反馈图片), by `imageId` or `imageURL`, e.g. `[\"img1\",\"img2\"]`.";
    }
}

inputs! {
    /// `POST /app/report`.
    pub struct Report {
        origin_type: required Ranged<1, 2> = "originReportType", Body, "What is reported (来源类型): 1 user / 2 room.";
        origin_id: required Deferred<Uid> = "originId", Body, "The reported uid or roomId (投诉来源ID); not yourself.";
        reason_type: required Ranged<1, 5> = "reportReasonType", Body, "Reason (投诉原因类别): 1 illegal / 2 pornography / 3 violence / 4 advertising / 5 other.";
        reason: required ReportReason = "reason", Body, "Details (投诉原因).";
    }
}

inputs! {
    /// `POST /app/link/preview/{linkMD5}`.
    pub struct LinkInput {
        link: required Link = "link", Body, "The link (http:// or https://; `http://` is assumed without a scheme).";
    }
}

/// The section's routes in `/docs-json`.
pub(crate) const DOCS: &[RouteDoc] = &[
    RouteDoc {
        method: Method::Get,
        path: "/app/version/upgrade",
        handler: Some(|r| r.to(upgrade)),
        tags: &[Tag::App],
        summary: "The newest app version for my Client-Type (获取最新版本)",
        description: "Not signed (鉴权: 否, 参数校验: 否); only `Client-Type`, `Version-Name` and `Version-Code` are read. With no version published for the client type, the answer is the caller's own version (`versionCode` and `versionName` from its headers, 0 and \"\" without them; `forcedUpgrade` 0, empty `downloadUrl`, `versionId`, `versionDesc`, `createTime` 0), so the app reads \"up to date\"; never `{}`.",
        auth: Auth::None,
        params: &[CLIENT_TYPE],
        reply: envelope(Res::Schema(of::<VersionJson>()), SUCCESS),
        errors: &[400, 503],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/app/feedback",
        handler: Some(|r| r.to(feedback)),
        tags: &[Tag::App],
        summary: "Send feedback (反馈)",
        input: &[Feedback::PARAMS],
        reply: envelope(Res::Empty, FEEDBACK_SENT),
        codes: &[BusinessCode::RoomNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/app/report",
        handler: Some(|r| r.to(report)),
        tags: &[Tag::App],
        summary: "Report a user or a room (投诉)",
        input: &[Report::PARAMS],
        reply: envelope(Res::Empty, REPORTED),
        codes: &[BusinessCode::UserNotFound, BusinessCode::RoomNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/app/link/preview/{linkMD5}",
        handler: Some(|r| r.to(link_preview)),
        tags: &[Tag::App],
        summary: "A link's preview (获取链接预览)",
        description: "`linkMD5` must be the md5 of `link` (with `http://` prepended when it has no scheme), else 400. The page is fetched once (behind an SSRF guard) and the preview cached by MD5. A page that cannot be fetched answers business code 0; a fetch past its deadline 504.",
        params: &[
            param(
                "linkMD5",
                Loc::Path,
                true,
                Ty::Hex32,
                "md5 of the link, 32 lowercase hex.",
            ),
        ],
        input: &[LinkInput::PARAMS],
        reply: envelope(Res::Schema(of::<PreviewJson>()), SUCCESS),
        codes: &[BusinessCode::Default],
        errors: &[504],
        ..BASE
    },
];

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

impl VersionJson {
    /// The caller's own version, from its headers: what `upgrade` answers when
    /// nothing is published for its client type, so the app reads "up to
    /// date" (the same code it runs, not forced, nothing to download).
    fn callers_own(client: &ClientInfo) -> Self {
        Self {
            client_type: client.client_type.code(),
            create_time: 0,
            download_url: String::new(),
            forced_upgrade: 0,
            version_code: client.version_code.unwrap_or(0),
            version_desc: String::new(),
            version_id: String::new(),
            version_name: client.version_name.clone().unwrap_or_default(),
        }
    }
}

/// "鉴权: 否, 参数校验: 否": no login and no signature; only `Client-Type`
/// (and `Version-Name`/`Version-Code` for the answer below). With no version
/// published for the client type, the answer is the caller's own version.
async fn upgrade(state: web::Data<AppState>, req: HttpRequest) -> ApiResult {
    let client = ClientInfo::from_request(&req)?;
    let latest = state
        .repo
        .run(LatestAppVersion {
            client_type: client.client_type.code(),
        })
        .await?;
    ok(latest
        .map(VersionJson::from)
        .unwrap_or_else(|| VersionJson::callers_own(&client)))
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
    let input = Feedback::from_params(&call.params)?;
    let origin_type = input.origin_type.get();
    let origin_id = if origin_type == 1 {
        existing_room(&state, input.origin_id.text())
            .await?
            .to_string()
    } else {
        input.origin_id.parse()?.into_string()
    };
    let feedback_type = input.feedback_type.get();
    let content = input.content.into_string();
    let refs = input.images.map(ImageRefs::into_vec).unwrap_or_default();
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
    ok_with(Empty {}, FEEDBACK_SENT)
}

async fn report(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    let input = Report::from_params(&call.params)?;
    let origin_type = input.origin_type.get();
    let origin_text = input.origin_id.text();
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
    let reason_type = input.reason_type.get();
    let reason = input.reason.into_string();
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
    ok_with(Empty {}, REPORTED)
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
    let link = normalise_link(LinkInput::from_params(&call.params)?.link.as_str());
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
