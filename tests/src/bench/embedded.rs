//! `embedded`: the ingest scenario on SQLite (batches of 500, 8 clients, 10
//! tenants) against a plain batched insert into the same SQLite file and schema:
//! one connection with the service's pragmas (WAL, `synchronous=FULL`), one
//! transaction with one 500-row `INSERT` per batch (SQLite has one writer, so
//! one connection is its physical limit).

use std::str::FromStr;
use std::sync::Arc;

use auditlog_tests::{Backend, spawn_app};
use chrono::Utc;
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::sqlx::{self, QueryBuilder, Sqlite};

use super::events::{COLUMNS, Event, id_at};
use super::ingest::record_bodies;
use super::report::{Goal, Row, push_versus};
use super::stats::{Summary, drive};
use super::{Scale, create_tenants};

const BATCH: usize = 500;
const CLIENTS: usize = 8;

pub(crate) async fn embedded(scale: &Scale, rows: &mut Vec<Row>, goals: &mut Vec<Goal>) {
    let app = Arc::new(spawn_app(Backend::Sqlite).await);
    let service_tenants = Arc::new(create_tenants(&app, "embedded-svc", 10, "ENTERPRISE").await);
    let raw_tenants = create_tenants(&app, "embedded-raw", 10, "ENTERPRISE").await;
    let options = SqliteConnectOptions::from_str(app.database_url())
        .expect("SQLite URL")
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(std::time::Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("raw SQLite connection");
    let batches = (scale.embedded_events / BATCH).max(1);
    let bodies = Arc::new(record_bodies(batches, BATCH, 0));
    let (mut service, mut raw) = (Vec::new(), Vec::new());
    let mut sequence = [1_000_000i64; 10];
    for _ in 0..scale.runs {
        let (app2, bodies2, tenants) = (app.clone(), bodies.clone(), service_tenants.clone());
        service.push(
            drive(CLIENTS, batches, BATCH, move |n| {
                let (app, body) = (app2.clone(), bodies2[n].clone());
                let key = tenants[n % 10].key.clone();
                async move {
                    super::service_graphql(&app, &key, body).await;
                }
            })
            .await,
        );
        let started = std::time::Instant::now();
        let mut latencies = Vec::with_capacity(batches);
        for n in 0..batches {
            let sent = std::time::Instant::now();
            let tenant = n % 10;
            let mut txn = pool.begin().await.expect("begin");
            let mut insert: QueryBuilder<Sqlite> =
                QueryBuilder::new(format!("INSERT INTO audit_events ({COLUMNS}) "));
            insert.push_values(0..BATCH, |mut row, i| {
                let event = Event::new((n * BATCH + i) as u64);
                let now = Utc::now();
                sequence[tenant] += 1;
                let input = event.postgraphile_input(
                    raw_tenants[tenant].id,
                    id_at(now),
                    sequence[tenant],
                    now,
                );
                let text = |name: &str| input[name].as_str().map(str::to_owned);
                row.push_bind(raw_tenants[tenant].id)
                    .push_bind(id_at(now))
                    .push_bind(sequence[tenant])
                    .push_bind(event.action)
                    .push_bind("user")
                    .push_bind(text("actorId"))
                    .push_bind(text("actorName"))
                    .push_bind(text("actorEmail"))
                    .push_bind("article")
                    .push_bind(text("targetId"))
                    .push_bind(text("targetName"))
                    .push_bind("success")
                    .push_bind(text("ipAddress"))
                    .push_bind(text("userAgent"))
                    .push_bind(None::<String>)
                    .push_bind(sqlx::types::Json(event.payload.clone()))
                    .push_bind(now)
                    .push_bind(now);
            });
            insert
                .build()
                .execute(&mut *txn)
                .await
                .expect("raw SQLite INSERT");
            txn.commit().await.expect("commit");
            latencies.push(sent.elapsed().as_secs_f64() * 1e3);
        }
        raw.push(super::stats::Run {
            seconds: started.elapsed().as_secs_f64(),
            items: (batches * BATCH) as f64,
            latencies_ms: latencies,
        });
    }
    let (service, raw) = (Summary::of(&service), Summary::of(&raw));
    push_versus(
        rows,
        "embedded",
        "events/s",
        (
            "auditlog on SQLite, recordAuditEvents ×500",
            &service,
            "plain insert",
        ),
        ("plain SQLite INSERT ×500 per txn", &raw),
    );
    goals.push(Goal::share_of(
        "embedded",
        "≥ 50 % of a plain batched insert",
        &service,
        &raw,
        0.5,
    ));
}
