//! Scenario `integrity` (issue 19): what tamper evidence costs.
//!
//! - Proofs on a big tree: a tenant whose tree has `integrity_tree` leaves
//!   (10,000,000 at the default scale). Proofs read only `audit_tree_nodes`,
//!   never events, so the tree is seeded directly: every perfect subtree of
//!   `[0, n)` with a synthetic hash (one `INSERT … SELECT` per level), and the
//!   tenant's counter set to `n`. Measured: inclusion proofs of random leaves
//!   in one read-only tenant transaction, as the service's resolver runs them,
//!   and consistency proofs from random sizes to `n` over GraphQL (end to end).
//! - Signing: `integrity_tenants` tenants whose tree grew (each has its
//!   `tenant.create` event and no head), one signer pass over all of them;
//!   its wall time and the process's CPU time during it, scaled to 1,000.
//!
//! Not measured: ingest without the tree. There is no switch that turns tree
//! maintenance off (none should exist in production), so the same run has
//! no tree-less baseline; the `ingest` and `single` rows include the tree,
//! and the goal says so.

use std::sync::Arc;
use std::time::Instant;

use auditlog_worker::tree_heads::TreeHeadSigner;
use entity::store::{read_scope, tree};
use rand::Rng;
use sea_orm::sqlx;
use serde_json::json;

use super::report::{Goal, Row};
use super::stats::{Summary, drive};
use super::{Bench, body, create_tenants, service_graphql};
use auditlog_tests::database;

/// Concurrent clients asking for proofs.
const CLIENTS: usize = 4;

pub(crate) async fn integrity(bench: &Bench, rows: &mut Vec<Row>, goals: &mut Vec<Goal>) {
    let scale = &bench.scale;
    let size = scale.integrity_tree as u64;
    let tenant = create_tenants(&bench.app, "integrity-big", 1, "ENTERPRISE")
        .await
        .remove(0);
    let seeded = Instant::now();
    seed_tree(bench, tenant.id, size).await;
    eprintln!(
        "bench: integrity: seeded a tree of {size} leaves in {:.0} s",
        seeded.elapsed().as_secs_f64()
    );
    let db = database::connect(bench.app.database_url()).await;

    let mut runs = Vec::new();
    for _ in 0..scale.runs {
        let db = db.clone();
        runs.push(
            drive(CLIENTS, scale.integrity_proofs, 1, move |_| {
                let db = db.clone();
                async move {
                    let leaf = rand::rng().random_range(0..size);
                    let txn = read_scope::begin_read(&db, tenant.id)
                        .await
                        .expect("a read transaction");
                    let proof = tree::inclusion_proof(&txn, tenant.id, leaf, size)
                        .await
                        .expect("an inclusion proof");
                    assert_eq!(proof.tree_size, size);
                    txn.commit().await.expect("commit");
                }
            })
            .await,
        );
    }
    let inclusion = Summary::of(&runs);
    rows.push(row(
        "inclusion proof (store, one read transaction)",
        "proofs/s",
        &inclusion,
        size,
    ));
    goals.push(Goal::check(
        "integrity",
        format!("inclusion proof p50 ≤ 10 ms on a {size}-event tenant"),
        inclusion.p50_ms,
        10.0,
        false,
        format!("{:.2} ms", inclusion.p50_ms),
    ));

    let query = "query($from: Int!, $to: Int!) { auditLogConsistencyProof(fromSize: $from, \
                 toSize: $to) { path } }";
    let mut runs = Vec::new();
    for _ in 0..scale.runs {
        let (app, key) = (bench.app.clone(), tenant.key.clone());
        runs.push(
            drive(CLIENTS, scale.integrity_proofs, 1, move |_| {
                let (app, key) = (app.clone(), key.clone());
                async move {
                    let from = rand::rng().random_range(1..size);
                    let request = body(query, json!({ "from": from, "to": size }));
                    let data = service_graphql(&app, &key, request).await;
                    assert!(data["auditLogConsistencyProof"]["path"].is_array());
                }
            })
            .await,
        );
    }
    let consistency = Summary::of(&runs);
    rows.push(row(
        "consistency proof (GraphQL)",
        "proofs/s",
        &consistency,
        size,
    ));
    goals.push(Goal::check(
        "integrity",
        format!("consistency proof p50 ≤ 10 ms on a {size}-event tenant"),
        consistency.p50_ms,
        10.0,
        false,
        format!("{:.2} ms", consistency.p50_ms),
    ));

    sign(bench, goals).await;
    goals.push(Goal::not_run(
        "integrity",
        "ingest with the tree ≥ 85 % of the rate without it",
        "no tree-less ingest exists to compare in the same run (the ingest rows include the tree)",
    ));
}

/// One signer pass over `integrity_tenants` grown tenants (and the others).
async fn sign(bench: &Bench, goals: &mut Vec<Goal>) {
    let tenants = bench.scale.integrity_tenants;
    create_tenants(&bench.app, "integrity-signed", tenants, "TEAM").await;
    let signer = TreeHeadSigner::new(database::connect(bench.app.database_url()).await, None);
    // The key ring loads (or is generated) outside the measured pass.
    signer.keys().await.expect("the key ring");
    let cpu_before = process_cpu_seconds();
    let started = Instant::now();
    let report = signer.run_pass().await.expect("a signing pass");
    let wall = started.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds() - cpu_before;
    eprintln!(
        "bench: integrity: signed {} heads over {} tenants in {wall:.2} s wall, {cpu:.2} s CPU",
        report.heads_signed, report.tenants
    );
    let per_thousand = cpu * 1000.0 / report.heads_signed.max(1) as f64;
    goals.push(Goal::check(
        "integrity",
        "signing heads for 1,000 tenants that grew: ≤ 1 s of CPU",
        per_thousand,
        1.0,
        false,
        format!(
            "{per_thousand:.2} s CPU per 1,000 ({} heads: {cpu:.2} s CPU, {wall:.2} s wall; \
             the service shares the process)",
            report.heads_signed
        ),
    ));
}

fn row(system: &str, unit: &'static str, summary: &Summary, size: u64) -> Row {
    Row {
        scenario: "integrity",
        system: system.into(),
        unit,
        summary: summary.clone(),
        ratio: format!("tree of {size}"),
    }
}

/// Every perfect subtree of `[0, size)` for `tenant`, with synthetic hashes,
/// and the tenant's counter at `size`.
async fn seed_tree(bench: &Bench, tenant: uuid::Uuid, size: u64) {
    let size = i64::try_from(size).expect("a tree size");
    let levels = 64 - size.leading_zeros();
    let pool = Arc::new(bench.pool.clone());
    for level in 0..levels as i16 {
        sqlx::query(
            "INSERT INTO audit_tree_nodes (tenant_id, level, idx, hash) \
             SELECT $1, $2, i, sha256(int8send(i * 64 + $2)) \
             FROM generate_series(0::bigint, ($3::bigint >> $2) - 1) i \
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant)
        .bind(level)
        .bind(size)
        .execute(pool.as_ref())
        .await
        .expect("seed a tree level");
    }
    super::set_counter(pool.as_ref(), tenant, size).await;
    sqlx::query("ANALYZE audit_tree_nodes")
        .execute(pool.as_ref())
        .await
        .expect("analyze");
}

/// User plus system CPU time of this process so far (`/proc/self/stat`).
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command (which may hold spaces) start after ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 (1-based), 11 and 12 after ')',
    // in clock ticks of 1/100 s (USER_HZ on Linux).
    (ticks(11) + ticks(12)) / 100.0
}
