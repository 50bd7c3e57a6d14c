//! The pages people open in a browser, served from `web/` (embedded in
//! release builds, read from the source tree in debug builds):
//!
//! - `/s/room/{roomCacheId}`, `/s/club/{clubId}`, `/s/event/{eventId}`,
//!   `/s/profile/{uid}`: share pages. The server fills `web/share.html`'s
//!   `{{placeholders}}` (HTML-escaped) with OpenGraph data, so link unfurlers
//!   that run no script see the title, description and image; the page's
//!   script then reads the H5 routes and follows the room live.
//! - `/app/`: the browser live-room client (`web/app/`).
//! - `/web/{path}`: every other file under `web/`.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use huddle_actors::{ClubId, EventId, RoomCacheId, Uid};
use rust_embed::RustEmbed;

use super::event::existing_event;
use super::h5::{club_view, profile_view, room_view, stranger};
use super::openapi::{param, Auth, Loc, Method, Reply, RouteDoc, Tag, Ty, BASE};
use super::public_base;
use super::views::Flag;
use crate::envelope::ApiError;
use crate::state::AppState;

#[derive(RustEmbed)]
#[folder = "web/"]
#[exclude = "*.md"]
struct Assets;

/// Browsers may run scripts and styles from this server only; images may
/// come from anywhere (avatars live on a CDN).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src * data: blob:; \
     connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The section's routes in `/docs-json`.
pub(crate) const DOCS: &[RouteDoc] = &[
    RouteDoc {
        method: Method::Get,
        path: "/",
        handler: Some(|r| r.to(redirect_to_app)),
        tags: &[Tag::Pages],
        summary: "Redirect to the browser client",
        auth: Auth::None,
        reply: Reply::Redirect("/app/"),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/app",
        handler: Some(|r| r.to(redirect_to_app)),
        tags: &[Tag::Pages],
        summary: "Redirect to the browser client",
        auth: Auth::None,
        reply: Reply::Redirect("/app/"),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/app/",
        handler: Some(|r| r.to(app_page)),
        tags: &[Tag::Pages],
        summary: "The browser live-room client",
        auth: Auth::None,
        reply: Reply::Html,
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/s/{kind}/{id}",
        handler: Some(|r| r.to(share_page)),
        tags: &[Tag::Pages],
        summary: "A share page with OpenGraph tags",
        description: "What a share link opens: the title, description and image are in the HTML (for link unfurlers that run no script); the page's script then reads the H5 routes and follows a room live. An unknown kind or id is 404.",
        auth: Auth::None,
        params: &[
            param(
                "kind",
                Loc::Path,
                true,
                Ty::OneOf(&["room", "club", "event", "profile"]),
                "What is shared.",
            ),
            param(
                "id",
                Loc::Path,
                true,
                Ty::Hex32,
                "A roomCacheId (room), clubId, eventId or uid (profile).",
            ),
        ],
        reply: Reply::SharePage,
        errors: &[404, 503],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/web/{path:.+}",
        handler: Some(|r| r.to(asset)),
        tags: &[Tag::Pages],
        summary: "A file of the browser pages (scripts, styles, images)",
        auth: Auth::None,
        params: &[param(
            "path",
            Loc::Path,
            true,
            Ty::Text(0),
            "The file under `web/`, e.g. `share.css` (may contain slashes).",
        )],
        reply: Reply::WebAsset,
        errors: &[404],
        ..BASE
    },
];

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("ico") => "image/x-icon",
        Some("json" | "webmanifest") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The text of an embedded file.
fn text_file(path: &str) -> Result<String, ApiError> {
    let file = Assets::get(path).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("web/{path} is missing from the build"))
    })?;
    String::from_utf8(file.data.into_owned())
        .map_err(|_| ApiError::internal(anyhow::anyhow!("web/{path} is not UTF-8")))
}

/// Marks a response as an HTML page, which the JSON error middleware leaves
/// alone (a share page for a missing room is still a page, with status 404).
#[derive(Debug, Clone, Copy)]
pub struct HtmlPage;

fn page(status: StatusCode, body: String) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.extensions_mut().insert(HtmlPage);
    res.content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "strict-origin-when-cross-origin"))
        .body(body)
}

async fn redirect_to_app() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, "/app/"))
        .finish()
}

async fn app_page() -> Result<HttpResponse, ApiError> {
    Ok(page(StatusCode::OK, text_file("app/index.html")?))
}

async fn asset(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let file = Assets::get(&path).ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(content_type(&path))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(file.data.into_owned()))
}

/// Escapes text for an HTML attribute or element.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What an unfurler shows for a share link.
#[derive(Debug, Default)]
struct OpenGraph {
    title: String,
    description: String,
    image: String,
    app_link: String,
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

async fn open_graph(state: &AppState, kind: &str, id: &str) -> Result<Option<OpenGraph>, ApiError> {
    let found = |r: Result<OpenGraph, ApiError>| match r {
        Ok(og) => Ok(Some(og)),
        Err(ApiError::Business { .. } | ApiError::BadRequest(_)) => Ok(None),
        Err(e) => Err(e),
    };
    match kind {
        "room" => found(
            async {
                let id = RoomCacheId::parse(id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
                let (_, view) = room_view(state, &id).await?;
                let host = view
                    .from_member
                    .as_ref()
                    .map(|m| m.nickname().to_owned())
                    .unwrap_or_default();
                let club = view
                    .club_result
                    .as_ref()
                    .map(|c| c.name.clone())
                    .unwrap_or_default();
                let status = if view.closed == Flag::from(true) {
                    "已结束 · Ended".to_owned()
                } else {
                    format!("{} 人在线 · {} live", view.member_total, view.member_total)
                };
                let description = [host.as_str(), club.as_str(), status.as_str()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" · ");
                let image = view
                    .club_result
                    .as_ref()
                    .map(|c| c.cover.clone())
                    .filter(|c| !c.is_empty())
                    .or_else(|| view.from_member.as_ref().map(|m| m.avatar().to_owned()))
                    .unwrap_or_default();
                Ok(OpenGraph {
                    title: view.name.clone(),
                    description,
                    image,
                    app_link: format!("chaoqer://room/{}", view.room_id),
                })
            }
            .await,
        ),
        "club" => found(
            async {
                let id = ClubId::parse(id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
                let club = club_view(state, &id).await?;
                Ok(OpenGraph {
                    description: format!(
                        "{} 位成员 · {} members",
                        club.member_total, club.member_total
                    ),
                    image: club.cover.clone(),
                    app_link: format!("chaoqer://club/{}", club.club_id),
                    title: club.name,
                })
            }
            .await,
        ),
        "event" => found(
            async {
                let id = EventId::parse(id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
                let view = existing_event(state, &id, &stranger()).await?;
                Ok(OpenGraph {
                    title: view.event.name.clone(),
                    description: shorten(&view.event.description, 200),
                    image: String::new(),
                    app_link: format!("chaoqer://event/{id}"),
                })
            }
            .await,
        ),
        "profile" => found(
            async {
                let uid = Uid::parse(id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
                let member = profile_view(state, &uid).await?;
                Ok(OpenGraph {
                    title: member.nickname().to_owned(),
                    description: shorten(member.bio(), 200),
                    image: member.avatar().to_owned(),
                    app_link: format!("chaoqer://profile/{uid}"),
                })
            }
            .await,
        ),
        _ => Ok(None),
    }
}

async fn share_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, id) = path.into_inner();
    if !matches!(kind.as_str(), "room" | "club" | "event" | "profile") {
        return Err(ApiError::NotFound);
    }
    let og = open_graph(&state, &kind, &id).await?;
    let status = if og.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let og = og.unwrap_or_else(|| OpenGraph {
        title: "huddle".into(),
        description: "没有找到 · Not found".into(),
        ..OpenGraph::default()
    });
    let base = public_base(&state, &req);
    let html = text_file("share.html")?
        .replace("{{title}}", &escape_html(&og.title))
        .replace("{{description}}", &escape_html(&og.description))
        .replace("{{image}}", &escape_html(&og.image))
        .replace("{{url}}", &escape_html(&format!("{base}/s/{kind}/{id}")))
        .replace("{{kind}}", &escape_html(&kind))
        .replace("{{id}}", &escape_html(&id))
        .replace("{{appLink}}", &escape_html(&og.app_link));
    Ok(page(status, html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(
            escape_html(r#"<script>"x" & 'y'</script>"#),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn every_page_file_is_embedded() {
        for path in [
            "share.html",
            "share.js",
            "share.css",
            "app/index.html",
            "assets/huddle.js",
        ] {
            assert!(Assets::get(path).is_some(), "web/{path}");
        }
    }
}
