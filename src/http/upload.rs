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

use super::public_base;
use crate::auth::{read_body, Profiled};
use crate::clients::storage::key::{ImageDir, ObjectKey};
use crate::clients::storage::local::{sniff_image, IMAGE_CONTENT_TYPES};
use crate::clients::storage::StorageError;
use crate::envelope::{ok, ApiError, ApiResult, Empty};
use crate::state::AppState;

/// `/aliyun/image/upload`, `/upload/{key}`, `/image/{...}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/aliyun/image/upload").post(create_upload))
        .service(web::resource("/upload/{key:.+}").put(receive_upload))
        .service(
            web::resource("/image/{uid}/{dir}/{file}")
                .get(serve_image)
                .head(serve_image),
        );
}

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
    let dir = ImageDir::parse(call.params.required("imageDir")?).map_err(ApiError::BadRequest)?;
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
