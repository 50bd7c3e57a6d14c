//! The response envelope of the mobile contract and the HTTP layer's one error type.
//!
//! - success: HTTP 200 `{"result": <value>, "message": "Success" | text, "status": 1}`
//! - business failure: HTTP 200 `{"result": <code>, "message": <text>, "status": 0}`
//! - protocol failure: HTTP 4xx/5xx `{"result": 0, "message": "Params Not Valid: …", "status": 0}`
//!
//! Protocol messages start with the seed's text for the status ("Params Not
//! Valid", "Authorized Failed", …) followed by what exactly was wrong. Causes of
//! internal errors are logged with the request id and never sent to clients.

use std::borrow::Cow;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use huddle_actors::cache::CacheError;
use huddle_actors::repo::RepoError;
use serde::Serialize;

/// `{}`: the seed's empty result object.
#[derive(Debug, Serialize, Default, Clone, Copy)]
pub struct Empty {}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    result: T,
    message: &'a str,
    status: u8,
}

/// What a successful handler returns.
pub type ApiResult = Result<HttpResponse, ApiError>;

/// The message of a success without a text of its own.
pub const SUCCESS: &str = "Success";

/// `{"result": result, "message": "Success", "status": 1}`.
pub fn ok<T: Serialize>(result: T) -> ApiResult {
    ok_with(result, SUCCESS)
}

/// A success envelope with the endpoint's own message (e.g. "登录成功").
pub fn ok_with<T: Serialize>(result: T, message: &str) -> ApiResult {
    Ok(HttpResponse::Ok().json(Envelope {
        result,
        message,
        status: 1,
    }))
}

/// The seed's business codes ("Operate Error Code"), the single list of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusinessCode {
    /// -1: repeated call within the signing window; the request was ignored.
    Repeated,
    /// 0: generic failure, the message says what.
    Default,
    /// 100000
    AccountNotFound,
    /// 100001
    AccountExists,
    /// 100002
    AccountFrozen,
    /// 200000
    ProfileNotInitialised,
    /// 200001
    ProfileAlreadyInitialised,
    /// 200002
    UserNotFound,
    /// 200003
    MessageNotFound,
    /// 400000: room not found (or closed, for joining).
    RoomNotFound,
    /// 400001: a host of the room has blocked the caller.
    RoomBlocked,
    /// 500000
    ClubNotFound,
    /// 600000
    EventNotFound,
}

impl BusinessCode {
    /// The integer sent as `result`.
    pub fn code(self) -> i64 {
        match self {
            Self::Repeated => -1,
            Self::Default => 0,
            Self::AccountNotFound => 100_000,
            Self::AccountExists => 100_001,
            Self::AccountFrozen => 100_002,
            Self::ProfileNotInitialised => 200_000,
            Self::ProfileAlreadyInitialised => 200_001,
            Self::UserNotFound => 200_002,
            Self::MessageNotFound => 200_003,
            Self::RoomNotFound => 400_000,
            Self::RoomBlocked => 400_001,
            Self::ClubNotFound => 500_000,
            Self::EventNotFound => 600_000,
        }
    }

    /// The seed's message for the code.
    pub fn message(self) -> &'static str {
        match self {
            Self::Repeated => "短时间内重复调用(直接忽略请求)",
            Self::Default => "Failure",
            Self::AccountNotFound => "账号不存在",
            Self::AccountExists => "账号已存在",
            Self::AccountFrozen => "账号已被冻结",
            Self::ProfileNotInitialised => "用户资料未初始化",
            Self::ProfileAlreadyInitialised => "用户资料已初始化",
            Self::UserNotFound => "用户不存在",
            Self::MessageNotFound => "消息不存在",
            Self::RoomNotFound => "活动不存在",
            Self::RoomBlocked => "无法加入此活动(有主持人拉黑了你)",
            Self::ClubNotFound => "圈子不存在",
            Self::EventNotFound => "日程不存在",
        }
    }
}

/// Every way a request can fail, as the client sees it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400
    #[error("Params Not Valid: {0}")]
    BadRequest(String),
    /// 401
    #[error("Authorized Failed: {0}")]
    Unauthorized(String),
    /// 403
    #[error("Forbidden: {0}")]
    Forbidden(String),
    /// 404
    #[error("Not Found")]
    NotFound,
    /// 405
    #[error("Method Not Allowed")]
    MethodNotAllowed,
    /// 413
    #[error("Payload Too Large: {0}")]
    PayloadTooLarge(String),
    /// 415
    #[error("Unsupported Media Type: {0}")]
    UnsupportedMediaType(String),
    /// 429 with `Retry-After`.
    #[error("Too Many Requests")]
    TooManyRequests {
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// 503: a dependency (database, cache) is unreachable.
    #[error("Service Unavailable: {0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected failure; the cause is logged, not sent.
    #[error("Internal Server Error")]
    Internal(#[source] anyhow::Error),
    /// Any other HTTP error status produced outside our handlers.
    #[error("{}", .0.canonical_reason().unwrap_or("Error"))]
    Status(StatusCode),
    /// HTTP 200 with a business code.
    #[error("{message}")]
    Business {
        /// The code sent as `result`.
        code: BusinessCode,
        /// The text sent as `message`.
        message: Cow<'static, str>,
    },
}

impl ApiError {
    /// A business failure with the seed's message for `code`.
    pub fn business(code: BusinessCode) -> Self {
        Self::Business {
            code,
            message: Cow::Borrowed(code.message()),
        }
    }

    /// A business failure with a specific message.
    pub fn business_msg(code: BusinessCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Business {
            code,
            message: message.into(),
        }
    }

    /// An internal error with its cause (logged, never sent).
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }

    /// The envelope for an error status that did not come from a handler
    /// (no route, wrong method, a framework error).
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::BAD_REQUEST => Self::BadRequest("malformed request".into()),
            StatusCode::UNAUTHORIZED => Self::Unauthorized("not logged in".into()),
            StatusCode::FORBIDDEN => Self::Forbidden("not allowed".into()),
            StatusCode::NOT_FOUND => Self::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Self::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge("request body too large".into()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Self::UnsupportedMediaType("unsupported content type".into())
            }
            other => Self::Status(other),
        }
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Unavailable(_) | RepoError::Mailbox(_) => {
                tracing::warn!(error = %e, "database unavailable");
                Self::Unavailable("database unavailable".into())
            }
            other => Self::internal(other),
        }
    }
}

impl From<huddle_actors::room::RoomError> for ApiError {
    fn from(e: huddle_actors::room::RoomError) -> Self {
        use huddle_actors::room::RoomError;
        match e {
            RoomError::NotFound => Self::business(BusinessCode::RoomNotFound),
            RoomError::Forbidden(why) => Self::Forbidden(why.into()),
            RoomError::NotMember => Self::Forbidden(e.to_string()),
            RoomError::BadRequest(why) => Self::BadRequest(why.into()),
            RoomError::Repo(e) => e.into(),
            RoomError::Mailbox(e) => Self::from(RepoError::Mailbox(e)),
            RoomError::Unavailable(why) => {
                tracing::warn!(error = %why, "shared room state unavailable");
                Self::Unavailable("live room state unavailable".into())
            }
        }
    }
}

impl From<CacheError> for ApiError {
    fn from(e: CacheError) -> Self {
        tracing::warn!(error = %e, "cache unavailable");
        Self::Unavailable("cache unavailable".into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Status(s) => *s,
            Self::Business { .. } => StatusCode::OK,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        match self {
            Self::Business { code, message } => {
                return res.json(Envelope {
                    result: code.code(),
                    message,
                    status: 0,
                });
            }
            Self::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            Self::TooManyRequests { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        res.json(Envelope {
            result: 0,
            message: &self.to_string(),
            status: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    async fn body(e: ApiError) -> (u16, serde_json::Value) {
        let res = e.error_response();
        let status = res.status().as_u16();
        let bytes = to_bytes(res.into_body()).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[actix_web::test]
    async fn business_errors_are_200_with_the_code() {
        let (status, v) = body(ApiError::business(BusinessCode::AccountFrozen)).await;
        assert_eq!(status, 200);
        assert_eq!(
            v,
            serde_json::json!({"result": 100002, "message": "账号已被冻结", "status": 0})
        );
    }

    #[actix_web::test]
    async fn protocol_errors_keep_the_seed_text_first() {
        let (status, v) = body(ApiError::BadRequest("count must be 0..=100".into())).await;
        assert_eq!(status, 400);
        assert_eq!(v["result"], 0);
        assert_eq!(v["status"], 0);
        assert_eq!(v["message"], "Params Not Valid: count must be 0..=100");
    }

    #[actix_web::test]
    async fn internal_errors_hide_the_cause() {
        let (status, v) = body(ApiError::internal(anyhow::anyhow!("secret detail"))).await;
        assert_eq!(status, 500);
        assert_eq!(v["message"], "Internal Server Error");
    }

    #[test]
    fn codes_match_the_seed() {
        assert_eq!(BusinessCode::Repeated.code(), -1);
        assert_eq!(BusinessCode::RoomBlocked.code(), 400_001);
        assert_eq!(BusinessCode::EventNotFound.code(), 600_000);
    }
}
