//! Issue 16, the viewer-token keys: `GET /.well-known/jwks.json` publishes the
//! Ed25519 key that signs viewer tokens, named by its RFC 7638 thumbprint;
//! replicas on one database publish the same generated key; a configured key
//! (`AUDITLOG_VIEWER_TOKEN_KEY`) is the one published, and a bad one stops the
//! start with an error naming the setting.

use std::net::SocketAddr;

use auditlog_api::config::{MetricsListen, Settings};
use auditlog_api::startup::Application;
use auditlog_tests::{Backend, Client, TestApp, backend_tests, spawn_app, spawn_app_with};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

const JWKS: &str = "/.well-known/jwks.json";

/// The Ed25519 key of RFC 8037, appendix A.1, as PKCS#8 PEM; its public key
/// (A.2) and thumbprint (A.3), computed there independently of our code.
const RFC8037_PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
    MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n\
    -----END PRIVATE KEY-----\n";
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const RFC8037_KID: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

/// The JWKS of the server `client` talks to, checked for its headers.
async fn jwks(client: &Client) -> Vec<Value> {
    let response = client.get(JWKS, "application/json", None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=300")
    );
    assert!(
        response
            .header("content-type")
            .is_some_and(|value| value.starts_with("application/json")),
        "{:?}",
        response.headers
    );
    response.body["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no keys: {}", response.text))
        .clone()
}

/// The RFC 7638 thumbprint of an Ed25519 JWK, computed here from its `x`.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

async fn publishes_one_ed25519_key_named_by_its_thumbprint(backend: Backend) {
    let app = spawn_app(backend).await;
    let keys = jwks(&app).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = &keys[0];
    for (field, expected) in [
        ("kty", "OKP"),
        ("crv", "Ed25519"),
        ("use", "sig"),
        ("alg", "EdDSA"),
    ] {
        assert_eq!(key[field], expected, "{key}");
    }
    let x = key["x"].as_str().unwrap_or_default();
    assert_eq!(
        URL_SAFE_NO_PAD.decode(x).map(|raw| raw.len()).ok(),
        Some(32)
    );
    assert_eq!(key["kid"], thumbprint(x).as_str());
    assert!(key.get("d").is_none(), "no private part: {key}");
}

async fn a_configured_key_is_the_published_one(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.viewer_tokens.viewer_token_key = Some(RFC8037_PEM.into());
    })
    .await;
    let keys = jwks(&app).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0]["kid"], RFC8037_KID);
    assert_eq!(keys[0]["x"], RFC8037_X);
}

/// A second replica on the same database reads the stored ring instead of
/// making a key of its own.
async fn replicas_on_one_database_publish_the_same_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = jwks(&app).await;
    let (replica, server) = second_replica(&app).await;
    assert_eq!(jwks(&replica).await, first);
    server.abort();
}

backend_tests!(
    publishes_one_ed25519_key_named_by_its_thumbprint,
    a_configured_key_is_the_published_one,
    replicas_on_one_database_publish_the_same_key,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_configured_key_stops_the_start_and_is_not_echoed() {
    let database = Backend::Sqlite.create_database().await;
    let mut settings = replica_settings(&database.url, &database.owner_url);
    settings.viewer_tokens.viewer_token_key = Some("not-a-pem-key-hunter2".into());
    let refused = Application::build(settings)
        .await
        .err()
        .expect("the service started with an unreadable viewer-token key");
    let message = format!("{refused:#}");
    assert!(message.contains("AUDITLOG_VIEWER_TOKEN_KEY"), "{message}");
    assert!(message.contains("PKCS#8 PEM"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

fn replica_settings(url: &str, owner_url: &str) -> Settings {
    let mut settings = Settings::for_database(url.to_owned());
    settings.database_roles.migration_database_url = Some(owner_url.to_owned().into());
    settings.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.metrics.metrics_listen = MetricsListen::Off;
    settings.in_process_purge = false;
    // The throwaway cluster runs with fsync off; durability is not the subject.
    settings.allow_unsafe_durability = true;
    settings
}

/// Another server on `app`'s database, and its task (abort it when done).
async fn second_replica(app: &TestApp) -> (Client, tokio::task::JoinHandle<()>) {
    let settings = replica_settings(app.database_url(), app.owner_database_url());
    let application = Application::build(settings)
        .await
        .unwrap_or_else(|e| panic!("the second replica did not start: {e:#}"));
    let address = format!("http://{}", application.local_addr());
    let server = tokio::spawn(async move {
        if let Err(e) = application.run_until_stopped().await {
            eprintln!("the second replica stopped with an error: {e:#}");
        }
    });
    (app.api.at(address), server)
}
