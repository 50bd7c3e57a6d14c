//! The API described for machines and people:
//!
//! - `GET /docs-json`: an OpenAPI 3.1 document of every HTTP route the server
//!   registers. This module only assembles it: each section keeps its own
//!   route docs next to its handlers (`DOCS` in `src/http/user.rs`,
//!   `club.rs`, ..., `src/realtime/door.rs`), and [`ROUTES`] concatenates
//!   them. The black-box test `tests/api/openapi.rs` fails when a route is
//!   registered but missing here, or documented but not registered.
//! - `GET /docs`: Swagger UI rendering that document. Its files come from the
//!   `utoipa-swagger-ui` crate (`vendored`: the Swagger UI release is inside a
//!   crate from crates.io) and are embedded in the binary; nothing is fetched
//!   from anywhere else at build or run time.
//!
//! Where each fact comes from, so that none is written twice:
//!
//! - **Result shapes**: the `Serialize` structs themselves
//!   (`src/http/views.rs` and the structs beside their handlers) derive
//!   `utoipa::ToSchema`; a route names its result type ([`of`]) and the
//!   component schemas are collected from those derives: field names after
//!   `#[serde(rename…)]`, `required` for every field always written, not for
//!   one skipped when `None`, nullable for an `Option` written as `null`,
//!   nested types by reference. `#[serde(flatten)]` is merged into one object.
//! - **Parameters**: the `inputs!` structs the handlers decode
//!   (`crate::http::inputs`): names, required or not, types, limits and the
//!   one description of each.
//! - **Success messages**: the constants the handlers pass to `ok_with`
//!   (`user::BLOCKED`, ...), as the `message` enum of the success response.
//! - **Business codes** per route: the route's `RouteDoc` next to its handler;
//!   the document narrows each operation's business-failure schema to them.
//! - Error texts, the signing example and the code table:
//!   [`BusinessCode`](crate::envelope::BusinessCode),
//!   [`ApiError`] and [`crate::auth::signature`].
//!
//! utoipa rather than schemars: utoipa is already in the build through
//! `utoipa-swagger-ui` (the same 5.x), its derive reads serde's attributes
//! into OpenAPI components directly, and `#[schema(required, nullable)]`
//! states the few cases serde's attributes do not say; schemars writes JSON
//! Schema documents that would need rewriting into components (`$defs`,
//! references) first. utoipa 5 derives JSON Schema 2020-12 (`"type":
//! ["string", "null"]`, `oneOf` with `null`), which is OpenAPI 3.1's dialect,
//! hence the document's version [`OPENAPI_VERSION`]; only the paths, the
//! envelope's own schemas and the security schemes are built here by hand.
//!
//! - [`table`]: the types of a route's doc ([`RouteDoc`], [`Auth`], ...) and
//!   the list of sections.
//! - [`schema`]: the document built from them.

use std::sync::{Arc, LazyLock};

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::envelope::ApiError;

mod schema;
mod table;

/// Registers every documented route ([`ROUTES`]): one resource per path,
/// the routes of a path in the order they are documented. This is the only
/// place routes are registered, so what the server serves is what
/// `/docs-json` describes.
pub fn register(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<(&'static str, Vec<actix_web::Route>)> = Vec::new();
    for doc in ROUTES.iter() {
        let Some(handler) = doc.handler else {
            unreachable!(
                "{} {} is documented without a handler",
                doc.method.as_str(),
                doc.path
            )
        };
        let route = handler(web::route().method(doc.method.actix()));
        match paths.iter_mut().find(|(path, _)| *path == doc.path) {
            Some((_, routes)) => routes.push(route),
            None => paths.push((doc.path, vec![route])),
        }
    }
    for (path, routes) in paths {
        cfg.service(
            routes
                .into_iter()
                .fold(web::resource(path), |r, route| r.route(route)),
        );
    }
}

/// The documentation's own routes.
pub(crate) const DOCS: &[RouteDoc] = &[
    RouteDoc {
        method: Method::Get,
        path: "/docs-json",
        handler: Some(|r| r.to(docs_json)),
        tags: &[Tag::Ops],
        summary: "This OpenAPI document",
        auth: Auth::None,
        reply: Reply::OpenApi,
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/docs",
        handler: Some(|r| r.to(docs_index)),
        tags: &[Tag::Ops],
        summary: "Browsable API documentation (Swagger UI)",
        auth: Auth::None,
        reply: Reply::Html,
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/docs/{file:.*}",
        handler: Some(|r| r.to(docs_file)),
        tags: &[Tag::Ops],
        summary: "A Swagger UI file (served by huddle itself)",
        description: "Empty `file` (`/docs/`) is the page itself.",
        auth: Auth::None,
        params: &[param(
            "file",
            Loc::Path,
            true,
            Ty::Text(0),
            "e.g. `swagger-ui-bundle.js`, `swagger-ui.css`, `swagger-initializer.js`.",
        )],
        reply: Reply::DocsAsset,
        errors: &[404],
        ..BASE
    },
];

pub use schema::*;
pub use table::*;

static DOCUMENT: LazyLock<String> = LazyLock::new(|| document().to_string());

// ---------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------

async fn docs_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(DOCUMENT.as_str())
}

/// Where Swagger UI's files are served from.
const DOCS_BASE: &str = "/docs/";

static SWAGGER_CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        utoipa_swagger_ui::Config::new(["/docs-json"])
            // The default would show a badge fetched from validator.swagger.io.
            .validator_url("none")
            .query_config_enabled(false)
            .filter(true)
            .persist_authorization(false)
            .display_request_duration(true),
    )
});

/// Swagger UI's page with every relative `href`/`src` made absolute under
/// [`DOCS_BASE`], so it works at `/docs` as well as `/docs/`.
pub fn rewrite_index(html: &str) -> String {
    let mut out = html.replace("<title>Swagger UI</title>", "<title>huddle API</title>");
    for attr in ["href=\"", "src=\""] {
        let mut result = String::with_capacity(out.len() + 64);
        let mut rest = out.as_str();
        while let Some(at) = rest.find(attr) {
            let (before, after) = rest.split_at(at + attr.len());
            result.push_str(before);
            let relative = !(after.starts_with('/')
                || after.starts_with('#')
                || after.starts_with("data:")
                || after.split('"').next().is_some_and(|v| v.contains("://")));
            if relative {
                result.push_str(DOCS_BASE);
                rest = after.strip_prefix("./").unwrap_or(after);
            } else {
                rest = after;
            }
        }
        result.push_str(rest);
        out = result;
    }
    out
}

fn swagger_file(file: &str) -> Result<HttpResponse, ApiError> {
    let found = utoipa_swagger_ui::serve(file, SWAGGER_CONFIG.clone())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("Swagger UI file {file}: {e}")))?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(found.content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(found.bytes.into_owned()))
}

async fn docs_index() -> Result<HttpResponse, ApiError> {
    let found = utoipa_swagger_ui::serve("index.html", SWAGGER_CONFIG.clone())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("Swagger UI index: {e}")))?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("Swagger UI index is missing")))?;
    let html = String::from_utf8(found.bytes.into_owned())
        .map_err(|_| ApiError::internal(anyhow::anyhow!("Swagger UI index is not UTF-8")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(rewrite_index(&html)))
}

async fn docs_file(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    match path.as_str() {
        "" | "index.html" => docs_index().await,
        file => swagger_file(file),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::{json, Value};

    use super::*;

    #[test]
    fn every_documented_route_has_a_handler_and_is_documented_once() {
        let mut seen = HashSet::new();
        for doc in ROUTES.iter() {
            assert!(
                doc.handler.is_some(),
                "{} {} has no handler",
                doc.method.as_str(),
                doc.path
            );
            assert!(
                seen.insert((doc.method, doc.path)),
                "{} {} is documented twice",
                doc.method.as_str(),
                doc.path
            );
        }
        assert!(seen.len() > 50, "{} routes", seen.len());
    }

    #[test]
    fn actix_patterns_become_templates() {
        assert_eq!(openapi_path("/upload/{key:.+}"), "/upload/{key}");
        assert_eq!(
            openapi_path("/user/{uid:[a-f0-9]{32}}/profile"),
            "/user/{uid}/profile"
        );
        assert_eq!(
            openapi_path("/room/{roomId}/invite/{uid}"),
            "/room/{roomId}/invite/{uid}"
        );
        assert_eq!(
            path_params("/room/{roomId}/invite/{uid}"),
            ["roomId", "uid"]
        );
        assert_eq!(openapi_path("/docs/{file:.*}"), "/docs/{file}");
    }

    #[test]
    fn templates_are_well_formed_and_unique() {
        let mut seen = HashSet::new();
        for route in ROUTES.iter() {
            let template = openapi_path(route.path);
            assert!(template.starts_with('/'), "{}", route.path);
            assert!(!template.contains("//"), "{}", route.path);
            let mut depth = 0;
            for c in template.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                assert!((0..=1).contains(&depth), "{}", route.path);
            }
            assert_eq!(depth, 0, "{}", route.path);
            let names = path_params(&template);
            for name in &names {
                assert!(
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
                    "{}: placeholder {name:?}",
                    route.path
                );
            }
            let unique: HashSet<_> = names.iter().collect();
            assert_eq!(unique.len(), names.len(), "{}", route.path);
            let declared: Vec<&str> = route
                .all_params()
                .filter(|p| p.location == Loc::Path)
                .map(|p| p.name)
                .collect();
            assert_eq!(declared, names, "{}: path parameters", route.path);
            assert!(
                seen.insert((route.method, template.clone())),
                "{} {template} documented twice",
                route.method.as_str()
            );
        }
    }

    #[test]
    fn every_route_is_described() {
        for route in ROUTES.iter() {
            let at = format!("{} {}", route.method.as_str(), route.path);
            assert!(!route.summary.is_empty(), "{at}");
            assert!(!route.tags.is_empty(), "{at}");
            if route.method == Method::Get || route.method == Method::Head {
                assert!(
                    route.all_params().all(|p| p.location != Loc::Body),
                    "{at}: a GET takes no body"
                );
            }
            let names: Vec<&str> = route.all_params().map(|p| p.name).collect();
            let unique: HashSet<&&str> = names.iter().collect();
            assert_eq!(unique.len(), names.len(), "{at}: a parameter twice");
            assert!(!names.contains(&"ts") && !names.contains(&"sign"), "{at}");
        }
        for tag in TAGS {
            assert!(
                ROUTES.iter().any(|r| r.tags.contains(&tag)),
                "tag {} has no route",
                tag.name()
            );
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let ids: HashSet<String> = ROUTES.iter().map(operation_id).collect();
        assert_eq!(ids.len(), ROUTES.len());
    }

    #[test]
    fn business_codes_are_all_listed_once() {
        let codes: HashSet<i64> = ALL_CODES.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), ALL_CODES.len());
        let names: HashSet<&str> = ALL_CODES.iter().map(|c| code_name(*c)).collect();
        assert_eq!(names.len(), ALL_CODES.len());
    }

    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn the_document_is_complete_and_its_refs_resolve() {
        let doc = document();
        assert_eq!(doc["openapi"], OPENAPI_VERSION);
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let pointer = r.strip_prefix('#').expect("local ref");
            assert!(doc.pointer(pointer).is_some(), "dangling {r}");
        }
        let operations: usize = doc["paths"]
            .as_object()
            .expect("paths")
            .values()
            .map(|item| item.as_object().expect("path item").len())
            .sum();
        assert_eq!(operations, ROUTES.len());
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                assert!(
                    op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                    "{method} {path}"
                );
                assert!(op["security"].is_array(), "{method} {path}");
            }
        }
        let signed = &doc["paths"]["/account/captcha"]["post"];
        let form = &signed["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
        assert_eq!(form["properties"]["ts"]["$ref"], "#/components/schemas/Ts");
        assert!(form["required"]
            .as_array()
            .expect("required")
            .contains(&json!("sign")));
        let get = &doc["paths"]["/user/block"]["get"];
        let params: Vec<&str> = get["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| p["name"].as_str().or_else(|| p["$ref"].as_str()))
            .collect();
        assert!(params.contains(&"count") && params.contains(&"#/components/parameters/sign"));
    }

    /// The derived schemas follow `Serialize` exactly: every always-present
    /// field is required, a field skipped when `None` is neither required nor
    /// nullable, an `Option` written as `null` is required and nullable.
    #[test]
    fn derived_schemas_are_exact() {
        let doc = document();
        if let Ok(path) = std::env::var("HUDDLE_DUMP_OPENAPI") {
            std::fs::write(path, serde_json::to_string_pretty(&doc).expect("json")).expect("dump");
        }
        let schemas = &doc["components"]["schemas"];
        let required = |name: &str| -> Vec<String> {
            schemas[name]["required"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: {}", schemas[name]))
                .iter()
                .map(|v| v.as_str().expect("name").to_owned())
                .collect()
        };
        let club = required("Club");
        assert!(club.contains(&"clubId".to_owned()) && club.contains(&"memberTotal".to_owned()));
        assert!(!club.contains(&"joined".to_owned()) && !club.contains(&"inviteOnly".to_owned()));
        assert_eq!(
            schemas["Club"]["properties"]["joined"]["$ref"],
            "#/components/schemas/Flag"
        );
        let event = required("Event");
        assert!(!event.contains(&"roomId".to_owned()) && !event.contains(&"roomResult".to_owned()));
        assert_eq!(schemas["Event"]["properties"]["roomId"]["type"], "string");
        let room = required("H5Room");
        assert!(room.contains(&"clubResult".to_owned()) && room.contains(&"fromMember".to_owned()));
        let nullable = schemas["H5Room"]["properties"]["clubResult"].to_string();
        assert!(nullable.contains("\"null\""), "{nullable}");
        assert_eq!(schemas["Flag"]["enum"], json!([0, 1]));
        assert_eq!(
            schemas["WeixinConfig"]["properties"]["appId"]["type"],
            "string"
        );
        assert_eq!(
            schemas["UploadTicket"]["properties"]["imageURL"]["type"],
            "string"
        );
        let h5_event = required("H5Event");
        assert!(
            h5_event.contains(&"eventId".to_owned()) && h5_event.contains(&"memberList".to_owned())
        );
        assert!(!h5_event.contains(&"roomId".to_owned()));
        for name in [
            "Profile",
            "UserItem",
            "MessageItem",
            "ClubItem",
            "RoomItem",
            "EventItem",
            "LoginResult",
            "RoomToken",
            "AppVersion",
            "LinkPreview",
            "H5Session",
            "H5Member",
            "Health",
            "Ready",
            "PageInfo",
            "CreatedRoom",
        ] {
            assert!(!required(name).is_empty(), "{name}");
        }
    }

    #[test]
    fn links_point_at_operations_and_their_path_parameters() {
        let by_id: std::collections::HashMap<String, &RouteDoc> =
            ROUTES.iter().map(|r| (operation_id(r), r)).collect();
        for (source, targets, parameter, pointer) in LINKS {
            assert!(by_id.contains_key(*source), "{source}");
            assert!(pointer.starts_with("/result"), "{pointer}");
            for target in *targets {
                let route = by_id.get(*target).unwrap_or_else(|| panic!("{target}"));
                assert!(
                    path_params(&openapi_path(route.path)).contains(parameter),
                    "{target} has no path parameter {parameter}"
                );
            }
        }
    }

    #[test]
    fn the_signing_example_matches_the_readme() {
        assert!(signing_rule().contains("49d80eb45ea4d89c692dbc48ed8de534"));
    }

    #[test]
    fn index_assets_become_absolute() {
        let html = r#"<link href="./swagger-ui.css" /><link href="index.css" /><script src="./swagger-ui-bundle.js"></script><a href="https://x.example/">x</a><link href="/abs.css">"#;
        let out = rewrite_index(html);
        assert!(out.contains(r#"href="/docs/swagger-ui.css""#), "{out}");
        assert!(out.contains(r#"href="/docs/index.css""#), "{out}");
        assert!(out.contains(r#"src="/docs/swagger-ui-bundle.js""#), "{out}");
        assert!(out.contains(r#"href="https://x.example/""#), "{out}");
        assert!(out.contains(r#"href="/abs.css""#), "{out}");
    }

    #[test]
    fn swagger_ui_is_embedded_and_points_at_the_document() {
        let init = utoipa_swagger_ui::serve("swagger-initializer.js", SWAGGER_CONFIG.clone())
            .expect("serves")
            .expect("embedded");
        let text = String::from_utf8(init.bytes.into_owned()).expect("utf-8");
        assert!(text.contains("\"/docs-json\""), "{text}");
        assert!(text.contains("\"validatorUrl\": \"none\""), "{text}");
        assert!(
            utoipa_swagger_ui::serve("swagger-ui-bundle.js", SWAGGER_CONFIG.clone())
                .expect("serves")
                .is_some()
        );
    }
}
