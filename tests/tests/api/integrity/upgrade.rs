//! An upgrade from a release without the tree: a tenant that already has
//! events when migration `m20261204_000018_create_audit_tree` runs gets its
//! last sequence then as its tree origin. The database is migrated up to the
//! migration before the tree and filled as that release did (a tenant row,
//! events with their counter); then the service starts and migrates the
//! rest. Its next event is leaf 0: ingest works, heads are signed with the
//! origin, inclusion and consistency proofs verify with `auditlog verify`
//! and the independent verifier, and the older events are reported as not
//! covered (their `inclusionProof` is null), before and after the purge
//! deletes some of them. A writer of the earlier release still running after
//! the migration is refused (the database checks that the counter's last
//! sequence has a leaf).

use auditlog_tests::database;
use auditlog_tests::{Backend, TenantHandle, TestApp, backend_tests, spawn_app_on};
use chrono::{DateTime, Duration, Utc};
use entity::store::tenant_scope;
use entity::{audit_events, tenants};
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::export::verify_with_manifest;
use super::{
    TempDir, Verify, consistency, export, grow_to, inclusion_proof, latest_head, published_keys,
    python_verify, sign_heads, size_of,
};
use crate::export::{NDJSON, export as export_file, ndjson, ok};

/// The migration that brings the tree.
const TREE_MIGRATION: &str = "m20261204_000018_create_audit_tree";
/// Events recorded before the upgrade (sequences 1 to `LEGACY`)...
const LEGACY: u64 = 12;
/// ...of which the first `EXPIRED` are past the tenant's retention period.
const EXPIRED: u64 = 5;
const SLUG: &str = "legacy";
const CREATE_PLATFORM_KEY: &str = "mutation($name: String!, $role: PlatformRole!) { \
     createPlatformKey(name: $name, role: $role) { secret } }";

/// A database of the release before the tree, holding one TEAM tenant with
/// [`LEGACY`] events; the tenant's id.
async fn legacy_database(backend: Backend) -> (auditlog_tests::backend::TestDatabase, Uuid) {
    let database = backend.create_database().await;
    let owner = database::connect(&database.owner_url).await;
    let before_tree = Migrator::migrations()
        .iter()
        .position(|migration| migration.name() == TREE_MIGRATION)
        .expect("the tree's migration");
    Migrator::up(&owner, Some(u32::try_from(before_tree).unwrap()))
        .await
        .unwrap();
    owner.close().await.unwrap();

    // As that release wrote them, seen by a superuser (every tenant's rows).
    let db = database::connect(&database.superuser_url).await;
    let tenant_id = Uuid::now_v7();
    let now = Utc::now();
    let row = tenants::ActiveModel {
        id: ActiveValue::Set(tenant_id),
        slug: ActiveValue::Set(SLUG.to_owned()),
        name: ActiveValue::Set("Legacy Ltd".to_owned()),
        plan: ActiveValue::Set("team".to_owned()),
        retention_days: ActiveValue::Set(7),
        created_at: ActiveValue::Set(now - Duration::days(90)),
        event_counter: ActiveValue::Set(LEGACY as i64),
        // The columns of later releases (the tree origin) stay unset.
        ..Default::default()
    };
    tenants::Entity::insert(row)
        .exec_without_returning(&db)
        .await
        .unwrap();
    let events = (1..=LEGACY).map(|sequence| {
        let occurred_at = if sequence <= EXPIRED {
            now - Duration::days(60)
        } else {
            now - Duration::hours(1)
        };
        legacy_event(tenant_id, sequence, occurred_at)
    });
    audit_events::Entity::insert_many(events)
        .exec_without_returning(&db)
        .await
        .unwrap();
    db.close().await.unwrap();
    (database, tenant_id)
}

/// An event row as the release before the tree wrote it.
fn legacy_event(
    tenant_id: Uuid,
    sequence: u64,
    occurred_at: DateTime<Utc>,
) -> audit_events::ActiveModel {
    let mut row = audit_events::Model {
        tenant_id,
        id: Uuid::now_v7(),
        sequence: sequence as i64,
        action: "document.legacy_edit".to_owned(),
        actor_type: "user".to_owned(),
        actor_id: format!("user-{sequence}"),
        actor_name: Some("Zoë".to_owned()),
        actor_email: None,
        target_type: Some("document".to_owned()),
        target_id: Some(format!("doc-{sequence}")),
        target_name: None,
        outcome: "success".to_owned(),
        ip_address: None,
        user_agent: Some("legacy/1.0".to_owned()),
        request_id: None,
        payload: Some(json!({ "n": sequence, "old": true })),
        occurred_at,
        received_at: occurred_at,
        idempotency_key: None,
        request_hash: None,
    }
    .into_active_model();
    // Not bound at all: PostgreSQL's `inet` takes no text NULL.
    row.ip_address = ActiveValue::NotSet;
    row
}

/// How the release before the tree recorded an event: the row and the
/// counter, in the tenant's transaction, with no leaf.
async fn record_without_a_leaf(app: &TestApp, tenant_id: Uuid, sequence: u64) -> Result<(), DbErr> {
    let db = database::connect(app.database_url()).await;
    let txn = tenant_scope::begin(&db, tenant_id).await?;
    audit_events::Entity::insert(legacy_event(tenant_id, sequence, Utc::now()))
        .exec_without_returning(&txn)
        .await?;
    tenants::Entity::update_many()
        .col_expr(tenants::Column::EventCounter, Expr::value(sequence as i64))
        .filter(tenants::Column::Id.eq(tenant_id))
        .exec(&txn)
        .await?;
    txn.commit().await
}

/// An ADMIN key of the legacy tenant, made through a platform key (the
/// tenant was not created through this service). Recording it is the
/// tenant's first event since the upgrade.
async fn admin_of_legacy_tenant(app: &TestApp, tenant_id: Uuid) -> TenantHandle {
    let platform = app
        .graphql(
            CREATE_PLATFORM_KEY,
            json!({ "name": "upgrade", "role": "ADMIN" }),
            Some(&app.operator_token),
        )
        .await;
    let platform = platform.field("createPlatformKey")["secret"]
        .as_str()
        .expect("a platform key")
        .to_owned();
    let created = app
        .graphql_with_headers(
            auditlog_tests::queries::CREATE_API_KEY,
            json!({ "name": "admin", "role": "ADMIN" }),
            Some(&platform),
            &[("Auditlog-Tenant", SLUG)],
        )
        .await;
    let created = created.field("createApiKey");
    TenantHandle {
        id: tenant_id.to_string(),
        slug: SLUG.to_owned(),
        admin_key: created["secret"].as_str().expect("a secret").to_owned(),
        admin_key_id: created["apiKey"]["id"].as_str().expect("an id").to_owned(),
    }
}

fn sequence_of(event: &Value) -> u64 {
    event["sequence"].as_u64().expect("a sequence")
}

async fn an_upgraded_tenant_gets_a_tree_from_its_next_event(backend: Backend) {
    let (database, tenant_id) = legacy_database(backend).await;
    let app = spawn_app_on(backend, database).await;
    let tenant = admin_of_legacy_tenant(&app, tenant_id).await;
    let key = &tenant.admin_key;

    // Ingest works, and the tree holds only what came after the upgrade.
    grow_to(&app, &tenant, 20).await;
    sign_heads(&app).await;
    let first = latest_head(&app, key).await;
    assert_eq!(first["treeOrigin"], json!(LEGACY), "{first}");
    assert_eq!(size_of(&first), 20);
    // A service of the earlier release still recording after the migration
    // is refused: its event would have no leaf and stop the tenant's ingest.
    let refused = record_without_a_leaf(&app, tenant_id, LEGACY + 21)
        .await
        .expect_err("an event without a leaf was recorded");
    assert!(
        refused.to_string().contains("leaf in the Merkle tree"),
        "{backend}: {refused}"
    );

    // The expired events are past the tenant's retention: no read returns them.
    let events = export(&app, key, None).await;
    assert_eq!(sequence_of(&events[0]), EXPIRED + 1);
    assert_eq!(events.len() as u64, LEGACY - EXPIRED + 20);
    for event in &events {
        let sequence = sequence_of(event);
        let proof = &event["inclusionProof"];
        if sequence <= LEGACY {
            assert!(
                proof.is_null(),
                "{backend}: event {sequence} predates the tree: {proof}"
            );
        } else {
            assert_eq!(proof["leafIndex"], json!(sequence - LEGACY - 1), "{event}");
        }
    }
    // With an explicit tree size too: null, not an error.
    let legacy_id = events[0]["id"].as_str().unwrap();
    assert!(inclusion_proof(&app, key, legacy_id, 20).await.is_null());

    let dir = TempDir::new();
    let tenant_text = tenant_id.to_string();
    let keys = dir.json("keys.json", &published_keys(&app).await);
    let head = dir.json("head.json", &first);
    let file = dir.ndjson("events.ndjson", &events);
    let verify = Verify {
        tenant_id: &tenant_text,
        head: &head,
        keys: &keys,
        export: Some(&file),
        older: None,
        allow_gaps: false,
    };
    let (verified, report) = verify.run();
    assert!(verified, "{backend}: {report}");
    for expected in [
        "note  7 event(s) with sequence ≤ 12 predate the tree",
        "the 20 events recompute the head's root",
        "verified (7 event(s) predate the tree and are not covered)",
    ] {
        assert!(
            report.contains(expected),
            "{backend}: {expected}:\n{report}"
        );
    }
    let bundle = json!({ "tenantId": tenant_text, "keys": published_keys(&app).await,
                         "heads": [first], "events": events, "complete": true });
    let (verified, report) = python_verify(&dir, &bundle);
    assert!(
        verified && report.contains("7 event(s) with sequence <= 12"),
        "{backend}: {report}"
    );

    // An edit after the origin is still caught.
    let mut edited = events.clone();
    edited[(LEGACY - EXPIRED) as usize + 3]["action"] = json!("document.rewritten");
    let file = dir.ndjson("edited.ndjson", &edited);
    let (verified, report) = Verify {
        export: Some(&file),
        ..verify
    }
    .run();
    assert!(!verified, "{backend}: an edited event passed:\n{report}");

    // The purge deletes the expired events (from before the tree); the tree
    // is untouched and heads across it are consistent.
    let db: DatabaseConnection = database::connect(app.database_url()).await;
    let purged = database::purger(&db, database::purge_settings(100))
        .run_pass()
        .await
        .unwrap();
    assert_eq!(purged.events_deleted, EXPIRED, "{purged:?}");
    grow_to(&app, &tenant, 30).await;
    sign_heads(&app).await;
    let second = latest_head(&app, key).await;
    assert_eq!(second["treeOrigin"], json!(LEGACY));
    assert_eq!(size_of(&second), 30);
    let proof = consistency(&app, key, 20, 30).await;
    let events = export(&app, key, None).await;
    assert_eq!(
        sequence_of(&events[0]),
        EXPIRED + 1,
        "purged from the start"
    );
    let (old_head, new_head) = (dir.json("old.json", &first), dir.json("new.json", &second));
    let proof_file = dir.json("consistency.json", &proof);
    let file = dir.ndjson("after-purge.ndjson", &events);
    let (verified, report) = Verify {
        head: &new_head,
        export: Some(&file),
        older: Some((&old_head, &proof_file)),
        ..verify
    }
    .run();
    assert!(verified, "{backend}: {report}");
    assert!(
        report.contains("the 30 events recompute the head's root")
            && report.contains("both heads are of the tree of origin 12")
            && report.contains("7 event(s) predate the tree"),
        "{backend}: {report}"
    );
    let bundle = json!({ "tenantId": tenant_text, "keys": published_keys(&app).await,
                         "heads": [first, second], "events": events, "consistency": [proof],
                         "complete": true });
    let (verified, report) = python_verify(&dir, &bundle);
    assert!(verified, "{backend}: {report}");

    // An export's manifest names the head of its bound, with the origin;
    // events of it from before the tree carry no proof.
    let params = [("afterSequence", "10"), ("proofs", "true")];
    let body = ok(export_file(&app.api, NDJSON, &params, Some(key)).await).body;
    let (lines, manifest) = ndjson(&body);
    let manifest = manifest.expect("a complete export");
    assert_eq!(
        manifest["treeHead"]["treeOrigin"],
        json!(LEGACY),
        "{manifest}"
    );
    for line in &lines {
        let predates = sequence_of(line) <= LEGACY;
        assert_eq!(line.get("inclusionProof").is_none(), predates, "{line}");
    }
    let file = dir.file("export.ndjson");
    std::fs::write(&file, &body).unwrap();
    let (verified, report) = verify_with_manifest(&keys, &file);
    assert!(
        verified && report.contains("2 event(s) with sequence ≤ 12"),
        "{backend}: {report}"
    );
    // From later in the tree: each event verified by its inclusion proof.
    let params = [("afterSequence", "20"), ("proofs", "true")];
    let body = ok(export_file(&app.api, NDJSON, &params, Some(key)).await).body;
    std::fs::write(&file, &body).unwrap();
    let (verified, report) = verify_with_manifest(&keys, &file);
    assert!(
        verified
            && report.contains("ok    event 21 is in the head's tree (inclusion proof)")
            && !report.contains("predate the tree"),
        "{backend}: {report}"
    );
    // Up to a bound before the tree, no head covers anything.
    let body = ok(export_file(&app.api, NDJSON, &[("untilSequence", "12")], Some(key)).await).body;
    let (lines, manifest) = ndjson(&body);
    assert_eq!(lines.len() as u64, LEGACY - EXPIRED);
    assert!(manifest.expect("complete")["treeHead"].is_null());
}

/// The service's role may update a tenant row (its counter, its retention),
/// but never its tree origin: the tree's trigger refuses the change.
async fn the_service_role_cannot_move_a_tree_origin(backend: Backend) {
    let (database, tenant_id) = legacy_database(backend).await;
    let app = spawn_app_on(backend, database).await;
    let db = database::connect(app.database_url()).await;
    let rename =
        tenants::Entity::update_many().col_expr(tenants::Column::Name, Expr::value("Renamed"));
    let zero = tenants::Entity::update_many().col_expr(tenants::Column::TreeOrigin, Expr::value(0));
    let both = tenants::Entity::update_many()
        .col_expr(tenants::Column::Name, Expr::value("x"))
        .col_expr(tenants::Column::TreeOrigin, Expr::value(LEGACY as i64 + 1));
    for (update, allowed) in [(rename, true), (zero, false), (both, false)] {
        let txn = tenant_scope::begin(&db, tenant_id).await.unwrap();
        let outcome = update
            .filter(tenants::Column::Id.eq(tenant_id))
            .exec(&txn)
            .await;
        match outcome {
            Ok(done) => {
                assert!(allowed, "{backend}: the origin moved");
                assert_eq!(done.rows_affected, 1);
                txn.commit().await.unwrap();
            }
            Err(error) => {
                assert!(!allowed, "{backend}: {error}");
                assert!(
                    error.to_string().contains("tree_origin never changes"),
                    "{error}"
                );
                txn.rollback().await.unwrap();
            }
        }
    }
    let txn = tenant_scope::begin(&db, tenant_id).await.unwrap();
    let extent = entity::store::tree::heads::extent(&txn, tenant_id)
        .await
        .unwrap();
    assert_eq!(extent.origin.0, LEGACY);
}

backend_tests!(
    an_upgraded_tenant_gets_a_tree_from_its_next_event,
    the_service_role_cannot_move_a_tree_origin
);
