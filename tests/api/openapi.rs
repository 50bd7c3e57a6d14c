//! `GET /docs-json` (OpenAPI) and `GET /docs` (Swagger UI).
//!
//! The server registers exactly the documented routes (each section's `DOCS`
//! carries its handlers; `openapi::register` is the only registration), and a
//! live probe checks that it does: every documented path answers 405 (not the
//! unknown-path 404) to a method it does not list, and every documented
//! operation answers something other than 405 or the unknown-path 404, with
//! a status its own `responses` list.

use std::collections::BTreeSet;

use huddle::config::StorageConfig;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const OPERATION_KEYS: [&str; 8] = [
    "get", "head", "post", "put", "delete", "patch", "options", "trace",
];

async fn document(app: &TestApp) -> Value {
    let res = app
        .client
        .get(app.url("/docs-json"))
        .send()
        .await
        .expect("request reaches the server");
    assert_eq!(res.status(), 200);
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).expect("/docs-json is JSON")
}

/// Resolves a local `$ref` (`#/components/...`), or returns the value itself.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.strip_prefix('#').expect("local $ref"))
            .unwrap_or_else(|| panic!("dangling {r}")),
        None => v,
    }
}

// ---------------------------------------------------------------------------
// The source scan
// ---------------------------------------------------------------------------

/// `{name:regex}` → `{name}`; the regex may hold braces.
fn normalize(pattern: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    let mut in_name = false;
    for c in pattern.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push('{');
                    in_name = true;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    out.push('}');
                    in_name = false;
                }
            }
            ':' if depth == 1 => in_name = false,
            c if depth == 0 || in_name => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn patterns_become_templates() {
    assert_eq!(normalize("/upload/{key:.+}"), "/upload/{key}");
    assert_eq!(normalize("/u/{uid:[a-f0-9]{32}}/p"), "/u/{uid}/p");
}

// ---------------------------------------------------------------------------
// The live probe
// ---------------------------------------------------------------------------

const ZEROS: &str = "00000000000000000000000000000000";

/// A plausible value for a path placeholder.
fn sample(name: &str) -> String {
    match name {
        "kind" => "room".into(),
        "jPushId" => "probe-jpush-id".into(),
        "key" => format!("image/{ZEROS}/avatar/{ZEROS}.jpg"),
        "dir" => "avatar".into(),
        "file" => format!("{ZEROS}.jpg"),
        "path" => "share.css".into(),
        _ => ZEROS.into(),
    }
}

fn concrete(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').expect("closed placeholder") + open;
        let name = &rest[open + 1..close];
        // Swagger UI files live under /docs/{file}: probe a real one.
        if template == "/docs/{file}" {
            out.push_str("swagger-ui.css");
        } else {
            out.push_str(&sample(name));
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

fn default_404(status: u16, text: &str) -> bool {
    status == 404
        && serde_json::from_str::<Value>(text).ok()
            == Some(json!({"result": 0, "message": "Not Found", "status": 0}))
}

#[actix_web::test]
async fn every_documented_operation_answers_on_the_live_server() {
    // A local store holding the image the probe asks for, so that the image
    // routes answer 200 rather than a 404 that would look like an unknown path.
    let store = tempfile::tempdir().unwrap();
    let image_dir = store.path().join(format!("image/{ZEROS}/avatar"));
    std::fs::create_dir_all(&image_dir).unwrap();
    std::fs::write(
        image_dir.join(format!("{ZEROS}.jpg")),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    )
    .unwrap();
    let dir = store.path().display().to_string();
    let app = spawn_app_with(|c| c.services.storage = StorageConfig::Local { dir }).await;
    let doc = document(&app).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // The control: an unknown path is the default 404, whatever the method.
    for method in [Method::GET, Method::PATCH] {
        let res = client
            .request(method, app.url("/no/such/route"))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        assert!(default_404(status, &res.text().await.unwrap()));
    }

    let paths = doc["paths"].as_object().expect("paths");
    let mut probed = 0;
    let mut answers = std::collections::BTreeMap::new();
    for (template, item) in paths {
        let url = app.url(&concrete(template));
        let listed: Vec<&str> = OPERATION_KEYS
            .into_iter()
            .filter(|k| item.get(*k).is_some())
            .collect();
        // 1. The path is registered: a method it does not list is 405, not 404.
        let other = ["patch", "options", "trace"]
            .into_iter()
            .find(|m| !listed.contains(m))
            .expect("an unlisted method");
        let other = Method::from_bytes(other.to_ascii_uppercase().as_bytes()).unwrap();
        let res = client.request(other.clone(), &url).send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert_eq!(
            status, 405,
            "{other} {template} ({url}) should be 405 if the path is registered: {text}"
        );

        // 2. Each documented method is registered (not 405), and answers a
        //    status its operation documents. Unsigned, no credentials.
        for key in listed {
            let method = Method::from_bytes(key.to_ascii_uppercase().as_bytes()).unwrap();
            let res = client.request(method.clone(), &url).send().await.unwrap();
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            let at = format!("{method} {template} ({url}) → {status} {text:.200}");
            assert_ne!(status, 405, "{at}");
            assert!(!default_404(status, &text), "{at}: the unknown-path 404");
            let responses = item[key]["responses"].as_object().expect("responses");
            assert!(
                responses.contains_key(&status.to_string()),
                "{at}: status not among the documented {:?}",
                responses.keys().collect::<Vec<_>>()
            );
            answers.insert((key.to_ascii_uppercase(), template.clone()), status);
            probed += 1;
        }
    }
    assert!(probed > 50, "probed {probed} operations");
    // What the probe saw where it is known exactly.
    for (method, path, status) in [
        ("GET", "/image/{uid}/{dir}/{file}", 200),
        ("HEAD", "/image/{uid}/{dir}/{file}", 200),
        ("GET", "/web/{path}", 200),
        ("GET", "/docs/{file}", 200),
        ("GET", "/docs", 200),
        ("GET", "/docs-json", 200),
        ("GET", "/", 302),
        ("GET", "/app", 302),
        ("GET", "/app/", 200),
        ("GET", "/s/{kind}/{id}", 404),
        ("GET", "/healthz", 200),
        ("GET", "/app/version/upgrade", 200),
        ("GET", "/ws", 401),
        ("GET", "/h5/room/{roomCacheId}/live", 401),
        ("PUT", "/upload/{key}", 403),
        ("POST", "/account/captcha", 401),
        ("GET", "/user/block", 401),
        ("POST", "/h5/club/{clubId}", 401),
    ] {
        assert_eq!(
            answers.get(&(method.to_owned(), path.to_owned())),
            Some(&status),
            "{method} {path}"
        );
    }
}

// ---------------------------------------------------------------------------
// The document's content
// ---------------------------------------------------------------------------

#[actix_web::test]
async fn the_document_is_openapi_3_with_security_envelope_and_codes() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3."), "{version}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    // Security schemes.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["basicAuth"]["type"], "http");
    assert_eq!(schemes["basicAuth"]["scheme"], "basic");
    assert_eq!(schemes["h5Bearer"]["type"], "http");
    assert_eq!(schemes["h5Bearer"]["scheme"], "bearer");
    assert_eq!(schemes["requestSign"]["type"], "apiKey");
    assert_eq!(schemes["requestSign"]["name"], "sign");
    let rule = schemes["requestSign"]["description"].as_str().unwrap();
    for needle in ["$$$accessSecret=", "Hx!0k!K}5E.]EoP", "md5", "ts", "300000"] {
        assert!(
            rule.contains(needle),
            "signing rule lacks {needle:?}: {rule}"
        );
    }

    // The envelope.
    let envelope = &doc["components"]["schemas"]["Envelope"];
    for field in ["result", "message", "status"] {
        assert!(envelope["properties"][field].is_object(), "{field}");
    }

    // Business codes: every code of the seed, with its message.
    let codes: BTreeSet<i64> = doc["x-business-codes"]
        .as_array()
        .expect("x-business-codes")
        .iter()
        .map(|c| c["code"].as_i64().unwrap())
        .collect();
    let seed: BTreeSet<i64> = [
        -1, 0, 100000, 100001, 100002, 200000, 200001, 200002, 200003, 400000, 400001, 500000,
        600000,
    ]
    .into();
    assert_eq!(codes, seed);
    assert!(doc["info"]["description"]
        .as_str()
        .unwrap()
        .contains("用户资料未初始化"));

    // Protocol failures are envelopes.
    for name in [
        "BadRequest",
        "Unauthorized",
        "Forbidden",
        "NotFound",
        "MethodNotAllowed",
        "PayloadTooLarge",
        "UnsupportedMediaType",
        "TooManyRequests",
        "InternalServerError",
        "ServiceUnavailable",
        "GatewayTimeout",
    ] {
        let r = &doc["components"]["responses"][name]["content"]["application/json"];
        assert_eq!(r["example"]["status"], 0, "{name}");
        assert_eq!(r["example"]["result"], 0, "{name}");
    }

    // Tags are the seed's sections plus ours.
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tags,
        [
            "Account", "User", "Club", "Room", "Event", "Aliyun", "Push", "App", "H5", "Realtime",
            "Pages", "Ops"
        ]
    );

    // Signed operations carry ts and sign: GET in the query, others in both bodies.
    let mut signed = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (key, op) in item.as_object().unwrap() {
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{key} {path}"
            );
            let schemes: BTreeSet<&str> = op["security"]
                .as_array()
                .expect("security")
                .iter()
                .flat_map(|alt| alt.as_object().unwrap().keys().map(String::as_str))
                .collect();
            for name in path.split('{').skip(1) {
                let name = name.split('}').next().unwrap();
                assert!(
                    op["parameters"].as_array().unwrap().iter().any(|p| {
                        let p = resolve(&doc, p);
                        p["in"] == "path" && p["name"] == name && p["required"] == true
                    }),
                    "{key} {path}: path parameter {name}"
                );
            }
            if !schemes.contains("requestSign") {
                continue;
            }
            signed += 1;
            if key == "get" {
                let names: Vec<&str> = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| resolve(&doc, p)["name"].as_str().unwrap())
                    .collect();
                assert!(names.contains(&"ts") && names.contains(&"sign"), "{path}");
            } else {
                let content = &op["requestBody"]["content"];
                for media in ["application/json", "application/x-www-form-urlencoded"] {
                    let props = &content[media]["schema"]["properties"];
                    assert!(
                        props["ts"].is_object() && props["sign"].is_object(),
                        "{key} {path} {media}"
                    );
                }
            }
        }
    }
    assert!(signed > 40, "{signed} signed operations");
    let captcha = &doc["paths"]["/account/captcha"]["post"];
    assert_eq!(captcha["security"], json!([{"requestSign": []}]));
    let logout = &doc["paths"]["/account/logout"]["post"];
    assert_eq!(
        logout["security"],
        json!([{"basicAuth": [], "requestSign": []}])
    );
    let h5 = &doc["paths"]["/h5/club/{clubId}"]["post"];
    assert_eq!(h5["security"], json!([{"h5Bearer": [], "requestSign": []}]));
    assert!(doc["paths"]["/upload/{key}"]["put"].is_object());
    assert!(doc["paths"]["/ws"]["get"]["responses"]["101"].is_object());
}

// ---------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------

/// The values of `attr="..."` in `html`.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| html[at + needle.len()..].split('"').next())
        .collect()
}

#[actix_web::test]
async fn the_docs_page_and_every_asset_it_references_are_served_here() {
    let app = spawn_app().await;
    for page in ["/docs", "/docs/"] {
        let res = app.client.get(app.url(page)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{page}");
        let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(
            content_type.starts_with("text/html"),
            "{page}: {content_type}"
        );
        let html = res.text().await.unwrap();
        let base = url::Url::parse(&app.url(page)).unwrap();
        let mut assets: Vec<&str> = attribute_values(&html, "src");
        assets.extend(attribute_values(&html, "href"));
        assert!(
            assets.iter().any(|a| a.ends_with(".js")) && assets.iter().any(|a| a.ends_with(".css")),
            "{page} references no script or style: {html}"
        );
        for asset in assets {
            let url = base.join(asset).unwrap();
            assert_eq!(
                url.host_str(),
                base.host_str(),
                "{page} loads {asset} from elsewhere"
            );
            assert_eq!(
                url.port(),
                base.port(),
                "{page} loads {asset} from elsewhere"
            );
            let res = app.client.get(url.clone()).send().await.unwrap();
            assert_eq!(res.status(), 200, "{page}: {asset} ({url})");
            let text = res.bytes().await.unwrap();
            assert!(!text.is_empty(), "{asset}");
        }
    }
    // The page loads this server's document, and no validator badge from swagger.io.
    let init = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("\"/docs-json\""), "{init}");
    assert!(init.contains("\"validatorUrl\": \"none\""), "{init}");
    let missing = app
        .client
        .get(app.url("/docs/no-such-file.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

// ---------------------------------------------------------------------------
// Found by the schema fuzzer (tests/fuzz): the document must describe the
// values the server really takes, so that data valid by the document is not
// refused (and a header example is a header).
// ---------------------------------------------------------------------------

/// The request-body schema of `property` of `method path`, for one media type.
fn body_property<'a>(
    doc: &'a Value,
    path: &str,
    method: &str,
    media: &str,
    property: &str,
) -> &'a Value {
    let schema = &doc["paths"][path][method]["requestBody"]["content"][media]["schema"];
    let found = &schema["properties"][property];
    assert!(found.is_object(), "{method} {path} {media}: no {property}");
    found
}

#[actix_web::test]
async fn required_text_parameters_are_documented_not_blank_as_the_server_trims_them() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for media in ["application/json", "application/x-www-form-urlencoded"] {
        for (path, method, property) in [
            ("/club", "post", "name"),
            ("/club", "post", "cover"),
            ("/user/profile/init", "post", "nickname"),
            ("/user/profile", "put", "avatar"),
            ("/event", "post", "name"),
            ("/app/report", "post", "reason"),
        ] {
            let schema = body_property(&doc, path, method, media, property);
            assert_eq!(
                schema["minLength"], 1,
                "{method} {path} {property}: {schema}"
            );
            assert_eq!(
                schema["pattern"],
                huddle::http::openapi::NOT_BLANK_PATTERN,
                "{method} {path} {property}: {schema}"
            );
        }
        // Optional text may be blank (blank = absent).
        let desc = body_property(&doc, "/event", "post", media, "desc");
        assert!(desc.get("pattern").is_none(), "{desc}");
        assert!(desc.get("minLength").is_none(), "{desc}");
    }

    // Every character the pattern leaves out is white space the server trims
    // away: a name of only those is refused...
    let s = app.user("13800000001", "toby").await;
    let create = |name: &str| {
        app.post("/club")
            .user(&s)
            .param("name", name)
            .param("cover", "https://cdn.example.com/cover/c.jpg")
    };
    for blank in [
        "",
        "\t",
        "\n",
        "\u{b}",
        "\u{c}",
        "\r",
        " ",
        "\u{85}",
        "\u{a0}",
        "\u{1680}",
        "\u{2000}",
        "\u{2005}",
        "\u{200a}",
        "\u{2028}",
        "\u{2029}",
        "\u{202f}",
        "\u{205f}",
        "\u{3000}",
        " \u{3000}\t\u{a0}",
    ] {
        let message = create(blank).send().await.protocol(400, "Params Not Valid");
        assert!(message.contains("name"), "{blank:?}: {message}");
    }
    // ...and one character outside it (even U+FEFF, which `trim` keeps) is a name.
    for name in ["\u{feff}", " x ", "产品活动"] {
        let club = create(name).send().await.ok().clone();
        assert_eq!(club["name"], name.trim(), "{name:?}");
    }
}

#[actix_web::test]
async fn version_headers_and_times_are_documented_as_the_server_reads_them() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let parameters = &doc["components"]["parameters"];

    // Version-Name: a header carries visible ASCII only (Schemathesis refused
    // the document's own "产品活动" as a Version-Name example).
    let name = &parameters["Version-Name"]["schema"];
    assert_eq!(name["type"], "string", "{name}");
    assert_eq!(
        name["pattern"],
        huddle::http::openapi::VERSION_NAME_PATTERN,
        "{name}"
    );
    // Version-Code and times: the server reads an i64; more is 400.
    let code = &parameters["Version-Code"]["schema"];
    let event_time = body_property(&doc, "/event", "post", "application/json", "eventTime");
    for schema in [code, event_time] {
        assert_eq!(schema["type"], "integer", "{schema}");
        assert_eq!(schema["minimum"], i64::MIN, "{schema}");
        assert_eq!(schema["maximum"], i64::MAX, "{schema}");
    }

    let s = app.user("13800000002", "toby").await;
    let unread = || app.get("/user/message/unread_total").user(&s);
    // Any visible ASCII name is fine; a value no header should carry is ignored, not refused.
    for value in ["0.1.7", "0.1.7 (build 19; iOS 17)", "~!@#$%^&*()"] {
        unread().header("Version-Name", value).send().await.ok();
    }
    unread()
        .header("Version-Name", "产品活动")
        .send()
        .await
        .ok();
    // Version-Code at the documented bounds is read; one past them is 400.
    for value in [i64::MIN.to_string(), i64::MAX.to_string()] {
        unread().header("Version-Code", &value).send().await.ok();
    }
    let message = unread()
        .header("Version-Code", "9223372036854775808")
        .send()
        .await
        .protocol(400, "Params Not Valid");
    assert!(message.contains("Version-Code"), "{message}");
    // An eventTime past i64 is 400 as well (not an overflow, not a 5xx).
    let message = app
        .post("/event")
        .user(&s)
        .via(Transport::Json)
        .param("name", "launch")
        .json_param("eventTime", json!(9_223_372_036_854_775_808_u64))
        .json_param("memberUidList", json!([s.uid]))
        .send()
        .await
        .protocol(400, "Params Not Valid");
    assert!(message.contains("eventTime"), "{message}");
}

#[actix_web::test]
async fn the_upload_key_is_documented_with_its_slashes() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let key = doc["paths"]["/upload/{key}"]["put"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "key")
        .expect("the key parameter")
        .clone();
    let example = key["example"].as_str().expect("an example key");
    // OpenAPI path parameters hold no `/` unless an example shows one; this one must.
    assert_eq!(example.matches('/').count(), 3, "{example}");
    assert!(
        example.starts_with("image/") && example.ends_with(".jpg"),
        "{example}"
    );
    // The server takes the example as one key: a wrong signature is 403
    // (a key it cannot read would be 400, a path it does not route 404).
    send(
        app.client
            .put(app.url(&format!("/upload/{example}?Expires=1&Signature=00")))
            .header("Content-Type", "image/jpeg")
            .body(vec![0xff, 0xd8, 0xff, 0xe0]),
    )
    .await
    .protocol(403, "Forbidden");
}

/// The value a link's `$response.body#/pointer` names in `response`.
fn link_value(doc: &Value, path: &str, target: &str, response: &Value) -> String {
    let link = &doc["paths"][path]["post"]["responses"]["200"]["links"][target];
    let expression = link["parameters"]
        .as_object()
        .and_then(|p| p.values().next())
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("POST {path}: no link to {target}: {link}"));
    assert_eq!(link["operationId"], target, "{link}");
    let pointer = expression
        .strip_prefix("$response.body#")
        .unwrap_or_else(|| panic!("{expression}"));
    response
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} not in {response}"))
        .to_owned()
}

#[actix_web::test]
async fn links_lead_from_a_created_resource_to_what_it_enables() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let s = app.user("13800000003", "toby").await;

    let created = app
        .post("/club")
        .user(&s)
        .param("name", "fuzz")
        .param("cover", "https://cdn.example.com/cover/c.jpg")
        .send()
        .await;
    let club_id = link_value(&doc, "/club", "get_club_clubId", &created.body);
    app.get_as(&s, &format!("/club/{club_id}")).await.ok();

    let room = app.create_room(&s, "live", &club_id).await;
    let envelope = json!({ "result": room, "message": "Success", "status": 1 });
    let room_id = link_value(&doc, "/room", "get_room_roomId", &envelope);
    app.get_as(&s, &format!("/room/{room_id}")).await.ok();

    let cache = app.post_as(&s, &format!("/room/{room_id}/cache")).await;
    let cache_id = link_value(
        &doc,
        "/room/{roomId}/cache",
        "post_h5_room_roomCacheId",
        &cache.body,
    );
    assert!(hex32(&json!(cache_id)), "{cache_id}");

    let event = app
        .post("/event")
        .user(&s)
        .via(Transport::Json)
        .param("name", "launch")
        .json_param("eventTime", json!(app.clock_now() + 3_600_000))
        .json_param("memberUidList", json!([s.uid]))
        .send()
        .await;
    let event_id = link_value(&doc, "/event", "get_event_eventId", &event.body);
    app.get_as(&s, &format!("/event/{event_id}")).await.ok();
}

// ---------------------------------------------------------------------------
// Facts the document now takes from the code: result types (utoipa
// derives), typed inputs (names, limits) and success-message constants.
// ---------------------------------------------------------------------------

/// Checks `value` against `schema` as an exact object: every required
/// property present, no property the schema does not list, nested objects,
/// arrays and nullable (`oneOf` with `null`) values likewise.
fn assert_exact(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(doc, schema);
    if let Some(alternatives) = schema["oneOf"].as_array() {
        if value.is_null() {
            assert!(
                alternatives.iter().any(|a| a["type"] == "null"),
                "{at}: null, not nullable: {schema}"
            );
            return;
        }
        let non_null: Vec<&Value> = alternatives
            .iter()
            .filter(|a| a["type"] != "null")
            .collect();
        assert_eq!(non_null.len(), 1, "{at}: {schema}");
        return assert_exact(doc, non_null[0], value, at);
    }
    match schema["type"].as_str() {
        Some("object") => {
            let object = value.as_object().unwrap_or_else(|| panic!("{at}: {value}"));
            let properties = schema["properties"].as_object().expect("properties");
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().expect("a name");
                assert!(object.contains_key(name), "{at}: {name} missing in {value}");
            }
            for (name, v) in object {
                let property = properties
                    .get(name)
                    .unwrap_or_else(|| panic!("{at}: {name} not in the schema {schema}"));
                assert_exact(doc, property, v, &format!("{at}.{name}"));
            }
        }
        Some("array") => {
            for (i, item) in value.as_array().expect("an array").iter().enumerate() {
                assert_exact(doc, &schema["items"], item, &format!("{at}[{i}]"));
            }
        }
        Some("string") => assert!(value.is_string(), "{at}: {value}"),
        Some("integer") => {
            assert!(value.is_i64(), "{at}: {value}");
            if let Some(allowed) = schema["enum"].as_array() {
                assert!(allowed.contains(value), "{at}: {value} not in {allowed:?}");
            }
        }
        other => panic!("{at}: schema type {other:?}: {schema}"),
    }
}

/// The success `result` schema of `method path`.
fn result_schema<'a>(doc: &'a Value, path: &str, method: &str) -> (&'a Value, &'a Value) {
    let schema =
        &doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"];
    let success = match schema["oneOf"].as_array() {
        Some(alternatives) => &alternatives[0],
        None => schema,
    };
    (
        &success["properties"]["result"],
        &success["properties"]["message"],
    )
}

#[actix_web::test]
async fn answers_match_their_derived_schemas_exactly() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let host = app.user("13800000011", "host").await;
    let guest = app.user("13800000012", "guest").await;

    let club = app.create_club(&host, "derived").await;
    let club_id = club["clubId"].as_str().unwrap().to_owned();
    // Created: `joined` is left out, and the schema does not require it.
    assert!(club.get("joined").is_none());
    let (schema, _) = result_schema(&doc, "/club", "post");
    assert_exact(&doc, schema, &club, "POST /club");
    let got = app
        .get(&format!("/club/{club_id}"))
        .user(&host)
        .send()
        .await;
    let (schema, _) = result_schema(&doc, "/club/{clubId}", "get");
    assert_exact(&doc, schema, got.ok(), "GET /club/{clubId}");

    let room = app.create_room(&host, "live", &club_id).await;
    let room_id = room["roomId"].as_str().unwrap().to_owned();
    let (schema, _) = result_schema(&doc, "/room", "post");
    assert_exact(&doc, schema, &room, "POST /room");
    app.post(&format!("/room/{room_id}/token"))
        .user(&host)
        .send()
        .await
        .ok();
    let got = app
        .get(&format!("/room/{room_id}"))
        .user(&host)
        .send()
        .await;
    let (schema, _) = result_schema(&doc, "/room/{roomId}", "get");
    assert_exact(&doc, schema, got.ok(), "GET /room/{roomId}");
    let list = app
        .get("/room")
        .user(&host)
        .param("count", "10")
        .send()
        .await;
    let (schema, _) = result_schema(&doc, "/room", "get");
    assert_exact(&doc, schema, list.ok(), "GET /room");

    // An invite-only room shared: `clubResult` is null, and the schema says it may be.
    let private = app.create_private_room(&host, "quiet").await;
    let cache = app
        .post(&format!(
            "/room/{}/cache",
            private["roomId"].as_str().unwrap()
        ))
        .user(&host)
        .send()
        .await;
    let cache_id = cache.ok().as_str().unwrap().to_owned();
    let h5 = app.post("/h5/session").send().await.ok()["h5Token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {h5}");
    let shared = app
        .post(&format!("/h5/room/{cache_id}"))
        .header("Authorization", &bearer)
        .send()
        .await;
    assert!(shared.ok()["clubResult"].is_null(), "{}", shared.text);
    let (schema, _) = result_schema(&doc, "/h5/room/{roomCacheId}", "post");
    assert_exact(&doc, schema, shared.ok(), "POST /h5/room/{roomCacheId}");

    let event = app
        .post("/event")
        .user(&host)
        .via(Transport::Json)
        .param("name", "launch")
        .json_param("eventTime", json!(app.clock_now() + 3_600_000))
        .json_param("memberUidList", json!([guest.uid]))
        .send()
        .await;
    let (schema, _) = result_schema(&doc, "/event", "post");
    assert_exact(&doc, schema, event.ok(), "POST /event");
    let event_id = event.ok()["eventId"].as_str().unwrap().to_owned();
    let h5_event = app
        .post(&format!("/h5/event/{event_id}"))
        .header("Authorization", &bearer)
        .send()
        .await;
    let (schema, _) = result_schema(&doc, "/h5/event/{eventId}", "post");
    assert_exact(&doc, schema, h5_event.ok(), "POST /h5/event/{eventId}");

    let me = app
        .get(&format!("/user/{}/profile", guest.uid))
        .user(&host)
        .send()
        .await;
    let (schema, _) = result_schema(&doc, "/user/{uid}/profile", "get");
    assert_exact(&doc, schema, me.ok(), "GET /user/{uid}/profile");
}

#[actix_web::test]
async fn success_messages_are_the_handlers_constants() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let messages = |path: &str, method: &str| -> Vec<String> {
        let (_, message) = result_schema(&doc, path, method);
        message["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path}: {message}"))
            .iter()
            .map(|m| m.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        messages("/user/{uid}/block", "post"),
        [huddle::http::user::BLOCKED]
    );
    assert_eq!(
        messages("/account/login/captcha", "post"),
        [
            huddle::http::account::LOGGED_IN,
            huddle::http::account::REGISTERED
        ]
    );
    assert_eq!(messages("/club", "get"), [huddle::envelope::SUCCESS]);

    // And the server answers them.
    let s = app.user("13800000013", "toby").await;
    let other = app.user("13800000014", "tony").await;
    let res = app
        .post(&format!("/user/{}/block", other.uid))
        .user(&s)
        .send()
        .await;
    res.ok();
    assert_eq!(res.body["message"], huddle::http::user::BLOCKED);
    let res = app
        .delete(&format!("/user/{}/block", other.uid))
        .user(&s)
        .send()
        .await;
    res.ok();
    assert_eq!(
        messages("/user/{uid}/block", "delete"),
        [res.body["message"].as_str().unwrap()]
    );
}

#[actix_web::test]
async fn parameter_limits_are_the_newtypes_limits() {
    use huddle::http::inputs::{ClubName, Nickname};
    let app = spawn_app().await;
    let doc = document(&app).await;
    let media = "application/json";
    let nickname = body_property(&doc, "/user/profile/init", "post", media, "nickname");
    assert_eq!(nickname["maxLength"], Nickname::MAX, "{nickname}");
    let name = body_property(&doc, "/club", "post", media, "name");
    assert_eq!(name["maxLength"], ClubName::MAX, "{name}");
    // The struct's declaration order and required flags, not a second list.
    let form = &doc["paths"]["/event"]["post"]["requestBody"]["content"][media]["schema"];
    let names: Vec<&str> = form["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        ["name", "desc", "eventTime", "memberUidList", "ts", "sign"]
    );
    assert_eq!(
        form["required"],
        json!(["name", "eventTime", "memberUidList", "ts", "sign"])
    );

    // The server refuses one character more, with the newtype's message.
    let s = app.user("13800000015", "toby").await;
    let message = app
        .post("/club")
        .user(&s)
        .param("name", "字".repeat(ClubName::MAX + 1))
        .param("cover", "https://cdn.example.com/cover/c.jpg")
        .send()
        .await
        .protocol(400, "Params Not Valid");
    assert!(
        message.ends_with(&format!(
            "name must be at most {} characters",
            ClubName::MAX
        )),
        "{message}"
    );
    app.post("/club")
        .user(&s)
        .param("name", "字".repeat(ClubName::MAX))
        .param("cover", "https://cdn.example.com/cover/c.jpg")
        .send()
        .await
        .ok();
}
