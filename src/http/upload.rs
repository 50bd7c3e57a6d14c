//! Seed section "Aliyun": `POST /aliyun/image/upload` hands out a presigned PUT
//! address for `image/{uid}/{imageDir}/{imageId}.jpg` on the configured store.
//! With the local store this server also takes the PUT (`/upload/{key}`) and
//! serves the image (`/image/...`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use huddle_actors::repo::app::{MarkImageUploaded, RecordImage};
use huddle_actors::ImageId;
use serde::Serialize;
use utoipa::ToSchema;

use super::inputs::{inputs, FromParams};
use super::openapi::{
    envelope, of, param, Auth, Loc, Method, ParamDoc, Reply, Res, RouteDoc, Tag, Ty, BASE, EMPTY,
};
use super::public_base;
use crate::auth::{read_body, Profiled};
use crate::clients::storage::key::{ImageDir, ObjectKey};
use crate::clients::storage::local::{sniff_image, IMAGE_CONTENT_TYPES};
use crate::clients::storage::StorageError;
use crate::envelope::{ok, ApiError, ApiResult, Empty, SUCCESS};
use crate::state::AppState;

/// The section's routes in `/docs-json`.
pub(crate) const DOCS: &[RouteDoc] = &[
    RouteDoc {
        method: Method::Post,
        path: "/aliyun/image/upload",
        handler: Some(|r| r.to(create_upload)),
        tags: &[Tag::Aliyun],
        summary: "A presigned address to upload an image (创建上传图片凭证)",
        description: "PUT the image bytes to `uploadAddress` (with its `Content-Type`) before it expires; the image is then at `imageURL`. The object is `image/{uid}/{imageDir}/{imageId}.jpg` on the configured store (local, S3 or OSS).",
        input: &[NewUpload::PARAMS],
        reply: envelope(Res::Schema(of::<UploadJson>()), SUCCESS),
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Put,
        path: "/upload/{key:.+}",
        handler: Some(|r| r.to(receive_upload)),
        tags: &[Tag::Aliyun],
        summary: "Upload an image to a presigned address (local store)",
        description: "The `uploadAddress` of `POST /aliyun/image/upload` when `HUDDLE_STORAGE=local`: the body is the image (JPEG, PNG, GIF or WebP, at most `HUDDLE_STORAGE_MAX_IMAGE_BYTES`). A missing, expired or wrong signature is 403; a full image store is 503 (`the image store is out of space`, nothing stored); with another store this path answers 404.",
        auth: Auth::None,
        params: &[
            param(
                "key",
                Loc::Path,
                true,
                Ty::Pattern("^image/[0-9a-f]{32}/(avatar|cover|room|feedback)/[0-9a-f]{32}\\.jpg$"),
                "The object key, `image/{uid}/{imageDir}/{imageId}.jpg` (it contains slashes).",
            ),
            param(
                "Expires",
                Loc::Query,
                true,
                Ty::Text(0),
                "Expiry of the address (seconds since the epoch), from the presigned address.",
            ),
            param(
                "Signature",
                Loc::Query,
                true,
                Ty::Text(0),
                "The address's signature, from the presigned address.",
            ),
        ],
        reply: EMPTY,
        errors: &[400, 403, 404, 413, 415, 503],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/image/{uid}/{dir}/{file}",
        handler: Some(|r| r.to(serve_image)),
        tags: &[Tag::Aliyun],
        summary: "An uploaded image (local store)",
        description: "The `imageURL` of an image uploaded to the local store. Immutable: cached for a year.",
        auth: Auth::None,
        params: &IMAGE_PARAMS,
        reply: Reply::Image,
        errors: &[404],
        ..BASE
    },
    RouteDoc {
        method: Method::Head,
        path: "/image/{uid}/{dir}/{file}",
        handler: Some(|r| r.to(serve_image)),
        tags: &[Tag::Aliyun],
        summary: "An uploaded image's headers (local store)",
        auth: Auth::None,
        params: &IMAGE_PARAMS,
        reply: Reply::Image,
        errors: &[404],
        ..BASE
    },
];

inputs! {
    /// `POST /aliyun/image/upload`.
    pub struct NewUpload {
        image_dir: required ImageDir = "imageDir", Body, "Image folder (图片目录): avatar 头像 / cover 封面 / room 活动 / feedback 反馈.";
    }
}

/// The path of a local image: `/image/{uid}/{dir}/{file}`.
const IMAGE_PARAMS: [ParamDoc; 3] = [
    param("uid", Loc::Path, true, Ty::Hex32, "The uploader's uid."),
    param(
        "dir",
        Loc::Path,
        true,
        Ty::OneOf(ImageDir::NAMES),
        "The image folder.",
    ),
    param(
        "file",
        Loc::Path,
        true,
        Ty::Pattern("^[0-9a-f]{32}\\.jpg$"),
        "`{imageId}.jpg`.",
    ),
];

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Refused(why) => Self::Forbidden(why),
            StorageError::Provider(why) => {
                tracing::warn!(error = %why, "storage provider unavailable");
                Self::Unavailable("storage provider unavailable".into())
            }
            StorageError::Full(why) => {
                tracing::error!(error = %why, "the image store is out of space");
                Self::Unavailable("the image store is out of space".into())
            }
            StorageError::Io(_) => Self::internal(e),
        }
    }
}

/// Where to PUT an image and where it will be.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UploadTicket)]
pub(crate) struct UploadJson {
    /// Presigned PUT address (expires after HUDDLE_STORAGE_UPLOAD_TTL_SECS).
    upload_address: String,
    /// The image (32 hex).
    image_id: String,
    /// Public address once uploaded.
    #[serde(rename = "imageURL")]
    image_url: String,
}

async fn create_upload(state: web::Data<AppState>, req: HttpRequest, call: Profiled) -> ApiResult {
    let dir = NewUpload::from_params(&call.params)?.image_dir;
    let key = ObjectKey {
        uid: call.uid.clone(),
        dir,
        image_id: ImageId::new(),
    };
    let now = state.clock.now_ms();
    let ticket = state
        .uploads
        .presign(&key, &public_base(&state, &req), now.div_euclid(1000))
        .await?;
    state
        .repo
        .run(RecordImage {
            image_id: key.image_id.clone(),
            uid: key.uid.clone(),
            dir: dir.as_str().to_owned(),
            object_key: key.to_string(),
            image_url: ticket.image_url.clone(),
            now,
        })
        .await?;
    ok(UploadJson {
        upload_address: ticket.upload_address,
        image_id: key.image_id.to_string(),
        image_url: ticket.image_url,
    })
}

#[derive(serde::Deserialize)]
struct UploadQuery {
    #[serde(rename = "Expires")]
    expires: Option<String>,
    #[serde(rename = "Signature")]
    signature: Option<String>,
}

async fn receive_upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<UploadQuery>,
    body: web::Payload,
) -> ApiResult {
    let Some(store) = state.uploads.local() else {
        return Err(ApiError::NotFound);
    };
    let key = ObjectKey::parse(&path).map_err(ApiError::BadRequest)?;
    let (Some(expires), Some(signature)) = (&query.expires, &query.signature) else {
        return Err(ApiError::Forbidden(
            "Expires and Signature are required".into(),
        ));
    };
    let now = state.clock.now_ms();
    store.verify(&key, expires, signature, now.div_euclid(1000))?;
    let declared = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if !IMAGE_CONTENT_TYPES.contains(&declared.as_str()) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type must be one of {}",
            IMAGE_CONTENT_TYPES.join(", ")
        )));
    }
    let bytes = read_body(
        &req,
        body.into_inner(),
        state.config.services.max_image_bytes,
    )
    .await?;
    if sniff_image(&bytes).is_none() {
        return Err(ApiError::UnsupportedMediaType(
            "the body is not a JPEG, PNG, GIF or WebP image".into(),
        ));
    }
    store.write(&key, &bytes).await?;
    let known = state
        .repo
        .run(MarkImageUploaded {
            object_key: key.to_string(),
            now,
        })
        .await?;
    if !known {
        tracing::warn!(%key, "upload with a valid signature but no record of its address");
    }
    ok(Empty {})
}

async fn serve_image(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let Some(store) = state.uploads.local() else {
        return Err(ApiError::NotFound);
    };
    let (uid, dir, file) = path.into_inner();
    let key =
        ObjectKey::parse(&format!("image/{uid}/{dir}/{file}")).map_err(|_| ApiError::NotFound)?;
    let bytes = store.read(&key).await?.ok_or(ApiError::NotFound)?;
    let content_type = sniff_image(&bytes).unwrap_or("application/octet-stream");
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        // An image id is never reused: the bytes under a key never change.
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}
