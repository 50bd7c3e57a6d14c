//! CORS for H5 pages on another origin (`HUDDLE_CORS_ORIGINS`): preflights
//! and responses as a browser sees them. The browser suite (`web/tests`)
//! checks the same with a real page on a second origin.

use huddle::http::cors::CorsOrigins;
use reqwest::Method;

use crate::helpers::*;

const LISTED: &str = "https://dev-h5.chaoqer.com";
const UNLISTED: &str = "https://evil.example.com";

async fn preflight(app: &TestApp, path: &str, origin: &str, headers: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", headers)
        .send()
        .await
        .unwrap()
}

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[actix_web::test]
async fn a_listed_origin_may_call_the_h5_api_and_no_other() {
    let app = spawn_app_with(|c| {
        c.cors_origins = CorsOrigins::parse(&format!("{LISTED},http://127.0.0.1:9")).unwrap();
    })
    .await;
    let asked = "authorization,content-type,client-type,version-name,version-code";

    let res = preflight(&app, "/h5/session", LISTED, asked).await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        header(&res, "access-control-allow-origin").as_deref(),
        Some(LISTED)
    );
    let methods = header(&res, "access-control-allow-methods").unwrap();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
    let allowed = header(&res, "access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for h in asked.split(',') {
        assert!(allowed.contains(h), "{h} missing from {allowed}");
    }
    assert_eq!(
        header(&res, "access-control-max-age").as_deref(),
        Some("7200")
    );
    assert!(header(&res, "vary").unwrap().contains("Origin"));
    assert!(res.text().await.unwrap().is_empty());

    // the real call: the origin is echoed (never *), Vary: Origin
    let res = app
        .post("/h5/session")
        .header("Origin", LISTED)
        .send()
        .await;
    res.ok();
    assert_eq!(res.headers["access-control-allow-origin"], LISTED);
    assert!(res.headers["vary"].to_str().unwrap().contains("Origin"));

    // an unlisted origin gets no CORS header at all: the browser refuses it
    let res = preflight(&app, "/h5/session", UNLISTED, "content-type").await;
    assert!(header(&res, "access-control-allow-origin").is_none());
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], 0, "the envelope: {body}");
    let res = app
        .post("/h5/session")
        .header("Origin", UNLISTED)
        .send()
        .await;
    res.ok();
    assert!(!res.headers.contains_key("access-control-allow-origin"));

    // a header outside the list is refused in the preflight
    let res = preflight(&app, "/h5/session", LISTED, "x-secret").await;
    assert!(header(&res, "access-control-allow-origin").is_none());

    // the mobile API is not for browsers on other origins, even listed ones
    for path in ["/account/login/captcha", "/room", "/docs-json"] {
        let res = preflight(&app, path, LISTED, "content-type").await;
        assert!(
            header(&res, "access-control-allow-origin").is_none(),
            "{path}"
        );
    }
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("Origin", LISTED)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(header(&res, "access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn by_default_only_the_same_origin_is_served() {
    let app = spawn_app().await;
    let res = preflight(&app, "/h5/session", LISTED, "content-type").await;
    assert!(header(&res, "access-control-allow-origin").is_none());
    assert_ne!(res.status(), 204);
    // a same-origin page's POST (browsers send Origin on it) is not blocked
    let res = app
        .post("/h5/session")
        .header("Origin", &format!("http://{}", app.addr))
        .send()
        .await;
    res.ok();
    assert!(!res.headers.contains_key("access-control-allow-origin"));
}
