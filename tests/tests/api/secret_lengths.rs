//! Issue 12, finding 10: production refuses to start with a short operator
//! token, cursor key or metrics token, and says which; development mode
//! starts anyway (with a warning).

use auditlog_api::config::{MetricsListen, Settings};
use auditlog_api::startup::Application;
use auditlog_tests::{Backend, spawn_app_with};
use serde_json::Value;

/// Puts one short secret into the settings.
type Configure = fn(&mut Settings);

fn production(url: &str) -> Settings {
    let mut settings = Settings::for_database(url.to_owned());
    settings.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    settings.metrics.metrics_listen = MetricsListen::Off;
    settings.in_process_purge = false;
    settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_refuses_short_secrets_and_names_them() {
    let database = Backend::Sqlite.create_database().await;
    let cases: [(&str, Configure); 3] = [
        ("AUDITLOG_OPERATOR_TOKEN", |s| {
            s.operator_token = Some("x".into())
        }),
        ("AUDITLOG_CURSOR_KEY", |s| s.cursor_key = Some("k".into())),
        ("AUDITLOG_METRICS_TOKEN", |s| {
            s.metrics.metrics_token = Some("short".into())
        }),
    ];
    for (name, configure) in cases {
        let mut settings = production(&database.url);
        configure(&mut settings);
        let refused = Application::build(settings)
            .await
            .err()
            .unwrap_or_else(|| panic!("production started with a short {name}"));
        let message = format!("{refused:#}");
        for needle in ["refusing to start", name, "at least 32 characters"] {
            assert!(
                message.contains(needle),
                "{needle:?} missing from: {message}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn development_mode_starts_with_a_short_operator_token() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.dev = true;
        settings.operator_token = Some("x".into());
    })
    .await;
    let response = app.graphql("{ __typename }", Value::Null, Some("x")).await;
    assert!(
        response.field("__typename").is_string(),
        "{}",
        response.text
    );
}
