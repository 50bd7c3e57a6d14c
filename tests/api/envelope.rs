//! Every failure is the contract's JSON envelope, never an HTML or text page.

use crate::helpers::*;

#[actix_web::test]
async fn unknown_paths_are_a_404_envelope() {
    let app = spawn_app().await;
    let res = send(app.client.get(app.url("/no/such/route"))).await;
    assert_eq!(res.status, 404);
    assert_eq!(
        res.body,
        serde_json::json!({"result": 0, "message": "Not Found", "status": 0})
    );
}

#[actix_web::test]
async fn wrong_methods_are_a_405_envelope() {
    let app = spawn_app().await;
    let res = send(app.client.get(app.url("/account/captcha"))).await;
    assert_eq!(res.status, 405);
    assert_eq!(
        res.body,
        serde_json::json!({"result": 0, "message": "Method Not Allowed", "status": 0})
    );
    send(app.client.delete(app.url("/healthz")))
        .await
        .protocol(405, "Method Not Allowed");
}

#[actix_web::test]
async fn bodies_over_100_kb_are_a_413_envelope() {
    let app = spawn_app().await;
    let big = "x".repeat(100 * 1024 + 1);
    send(
        app.client
            .post(app.url("/account/captcha"))
            .form(&[("pad", big.as_str())]),
    )
    .await
    .protocol(413, "Payload Too Large");
    // chunked (no Content-Length) is capped too
    let chunks =
        futures_util::stream::iter((0..20).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 8 * 1024])));
    send(
        app.client
            .post(app.url("/account/captcha"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(reqwest::Body::wrap_stream(chunks)),
    )
    .await
    .protocol(413, "Payload Too Large");
    // just under the cap is read (and then fails on the missing signature)
    let fits = "x".repeat(100 * 1024 - 10);
    send(
        app.client
            .post(app.url("/account/captcha"))
            .form(&[("pad", fits.as_str())]),
    )
    .await
    .protocol(401, "Authorized Failed");
}

#[actix_web::test]
async fn other_content_types_are_a_415_envelope() {
    let app = spawn_app().await;
    send(
        app.client
            .post(app.url("/account/captcha"))
            .header("Content-Type", "text/plain")
            .body("mobile=13800000000"),
    )
    .await
    .protocol(415, "Unsupported Media Type");
    send(
        app.client
            .post(app.url("/account/captcha"))
            .header("Content-Type", "multipart/form-data; boundary=x")
            .body("--x--"),
    )
    .await
    .protocol(415, "Unsupported Media Type");
}

#[actix_web::test]
async fn malformed_bodies_are_a_400_envelope() {
    let app = spawn_app().await;
    for body in ["{not json", "[1,2,3]", "\"string\""] {
        send(
            app.client
                .post(app.url("/account/captcha"))
                .header("Content-Type", "application/json")
                .body(body),
        )
        .await
        .protocol(400, "Params Not Valid");
    }
    let url = format!("{}?mobile=1&mobile=2", app.url("/account/captcha"));
    send(app.client.post(url))
        .await
        .protocol(400, "Params Not Valid: parameter mobile given twice");
}

#[actix_web::test]
async fn bad_client_headers_are_400() {
    let app = spawn_app().await;
    app.post("/account/captcha")
        .param("mobile", "13800000200")
        .header("Client-Type", "9")
        .send()
        .await
        .protocol(400, "Params Not Valid: Client-Type");
    app.post("/account/captcha")
        .param("mobile", "13800000200")
        .header("Version-Code", "abc")
        .send()
        .await
        .protocol(400, "Params Not Valid: Version-Code");
    app.post("/account/captcha")
        .param("mobile", "13800000200")
        .header("Client-Type", "2")
        .header("Version-Name", "0.1.7")
        .header("Version-Code", "19")
        .send()
        .await
        .ok();
}

#[actix_web::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let a = send(app.client.get(app.url("/healthz"))).await;
    let b = send(app.client.get(app.url("/nope"))).await;
    let id = |r: &Resp| r.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id(&a).len(), 32);
    assert_ne!(id(&a), id(&b));
}

#[actix_web::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let res = send(app.client.get(app.url("/healthz"))).await;
    assert_eq!(res.ok()["status"], "up");
    let res = send(app.client.get(app.url("/readyz"))).await;
    assert_eq!(res.ok()["database"], "up");
}
