//! The viewer over plain HTTP: the app and its assets from the binary, with
//! the strict headers on every response of it, client-side routes answered
//! with the app, and the service's own endpoints never shadowed.

use auditlog_tests::{Backend, TestApp, spawn_app, spawn_app_with};
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderMap};

const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

async fn get(app: &TestApp, path: &str, accept: Option<&str>) -> (u16, HeaderMap, String) {
    let mut request = app.client.get(app.url(path));
    if let Some(accept) = accept {
        request = request.header(ACCEPT, accept);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(|value| value.to_str().unwrap())
        .unwrap_or_default()
}

/// The script `index.html` loads.
fn script_path(index: &str) -> String {
    let start = index
        .find("/assets/viewer-")
        .expect("index.html names its script");
    let end = start + index[start..].find('"').unwrap();
    index[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_is_served_with_a_strict_policy() {
    let app = spawn_app(Backend::Sqlite).await;
    let (status, headers, index) = get(&app, "/", Some(HTML)).await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, CONTENT_TYPE.as_str()),
        "text/html; charset=utf-8"
    );
    assert_eq!(header(&headers, CACHE_CONTROL.as_str()), "no-cache");
    let host = app.address.trim_start_matches("http://");
    assert_eq!(
        header(&headers, CONTENT_SECURITY_POLICY.as_str()),
        format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self' ws://{host} wss://{host}; frame-ancestors 'none'; \
             base-uri 'none'; form-action 'self'"
        )
    );
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
    assert_eq!(header(&headers, "x-frame-options"), "DENY");
    assert!(!index.contains("<script>"), "no inline script: {index}");

    let (status, headers, script) = get(&app, &script_path(&index), None).await;
    assert_eq!(status, 200);
    assert!(header(&headers, CONTENT_TYPE.as_str()).starts_with("text/javascript"));
    assert_eq!(
        header(&headers, CACHE_CONTROL.as_str()),
        "public, max-age=31536000, immutable"
    );
    assert!(header(&headers, CONTENT_SECURITY_POLICY.as_str()).starts_with("default-src 'self'"));
    assert!(script.contains("auditlog:ready"), "the viewer's own script");
    let (status, ..) = get(&app, "/assets/viewer-missing.js", None).await;
    assert_eq!(status, 404);

    let (status, headers, body) = get(&app, "/viewer/config.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, CACHE_CONTROL.as_str()), "no-store");
    let config: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        config,
        serde_json::json!({
            "mode": "production", "browserLogin": false, "publicOrigin": null, "embedderOrigins": [],
        })
    );
}

/// The app's own code never hands markup to the DOM (Preact's runtime has
/// `dangerouslySetInnerHTML`; the app never uses it): event data stays text.
#[test]
fn the_app_never_writes_html() {
    let sources = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/viewer/src");
    let mut pending = vec![sources];
    let mut files = 0;
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            files += 1;
            for forbidden in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
            ] {
                assert!(
                    !text.contains(forbidden),
                    "{} uses {forbidden}",
                    path.display()
                );
            }
        }
    }
    assert!(files > 10, "read the viewer's sources");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_routes_get_the_app_and_endpoints_stay_themselves() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, _, index) = get(&app, "/", Some(HTML)).await;
    for path in [
        "/events/01a2430c-0352-70d7-bc0a-a744df8c8435",
        "/settings",
        "/some/future/page?x=1",
    ] {
        let (status, _, body) = get(&app, path, Some(HTML)).await;
        assert_eq!((status, body.as_str()), (200, index.as_str()), "{path}");
    }
    // Not a browser navigation: no app.
    let (status, ..) = get(&app, "/some/future/page", Some("application/json")).await;
    assert_eq!(status, 404);
    // The service's endpoints, even for a browser.
    for path in [
        "/export.json",
        "/auth/nowhere",
        "/.well-known/nothing",
        "/metrics",
        "/graphqlx",
    ] {
        let (status, _, body) = get(&app, path, Some(HTML)).await;
        assert_ne!(body, index, "{path} answered with the app");
        assert!(status >= 400, "{path}: {status}");
    }
    let (status, _, body) = get(&app, "/healthz", Some(HTML)).await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (_, _, body) = get(&app, "/graphql", Some(HTML)).await;
    assert_ne!(body, index);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frame_ancestors_come_from_the_setting() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.frame_ancestors.frame_ancestors = vec![
            "https://app.example.com".into(),
            "http://localhost:5173".into(),
        ];
        settings.oidc.public_url = Some("https://audit.example.com".into());
    })
    .await;
    let (_, headers, _) = get(&app, "/", Some(HTML)).await;
    let policy = header(&headers, CONTENT_SECURITY_POLICY.as_str());
    assert!(
        policy.contains("frame-ancestors https://app.example.com http://localhost:5173;"),
        "{policy}"
    );
    assert!(
        policy.contains("connect-src 'self' wss://audit.example.com;"),
        "{policy}"
    );
    assert!(headers.get("x-frame-options").is_none());
    let (_, _, body) = get(&app, "/viewer/config.json", None).await;
    let config: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        config["embedderOrigins"],
        serde_json::json!(["https://app.example.com", "http://localhost:5173"])
    );
    assert_eq!(config["publicOrigin"], "https://audit.example.com");
}
