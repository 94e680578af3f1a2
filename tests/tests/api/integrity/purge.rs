//! The tree survives the retention purge and key rotation: the purge deletes
//! events, never tree nodes (at most 64 bytes of hashes per event stay);
//! heads signed before it stay consistent with heads signed after it;
//! retained events' proofs verify against both; and heads signed by a
//! rotated-out key (generated, then replaced by a configured
//! `AUDITLOG_SIGNING_KEY`) still verify with the old keys, which stay
//! published.

use auditlog_tests::database::{self, tenant_uuid};
use auditlog_tests::{Backend, TenantHandle, TestApp, backend_tests, spawn_app};
use auditlog_worker::ed25519::SigningKey;
use auditlog_worker::tree_heads::{TreeHeadKeys, TreeHeadSigner};
use entity::audit_tree_nodes;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use super::{
    TempDir, Verify, all_heads, consistency, export, grow_to, latest_head, published_keys,
    python_verify, sign_heads, size_of, tree_size,
};

/// Rows of `audit_tree_nodes` of the tenant (32 bytes of hash each).
async fn stored_nodes(app: &TestApp, tenant: &TenantHandle) -> u64 {
    let db = database::connect(app.database_url()).await;
    let tenant_id = tenant_uuid(&tenant.id);
    audit_tree_nodes::Entity::find()
        .filter(audit_tree_nodes::Column::TenantId.eq(tenant_id))
        .count(&database::scoped(&db, tenant_id).await)
        .await
        .unwrap()
}

async fn heads_survive_purge_and_rotation(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "TEAM").await;
    let key = &tenant.admin_key;
    let tenant_id = tenant_uuid(&tenant.id);
    let db = database::connect(app.database_url()).await;
    let old = chrono::Utc::now() - chrono::Duration::days(30);
    database::plant(&db, tenant_id, "entry.old", old, 9).await;
    grow_to(&app, &tenant, 20).await;
    sign_heads(&app).await;
    let before = latest_head(&app, key).await;
    assert_eq!(size_of(&before), 20);
    let nodes_before = stored_nodes(&app, &tenant).await;

    let report = database::purger(&db, database::purge_settings(4))
        .run_pass()
        .await
        .unwrap();
    assert!(report.events_deleted >= 9, "{report:?}");
    let size = tree_size(&app, &tenant).await;
    let nodes = stored_nodes(&app, &tenant).await;
    assert!(nodes >= nodes_before, "the purge deleted tree nodes");
    assert!(nodes * 32 <= 64 * size, "{nodes} nodes for {size} leaves");

    // A generated key rotated, then a configured one.
    TreeHeadKeys::rotate(&db, chrono::Utc::now()).await.unwrap();
    grow_to(&app, &tenant, 40).await;
    sign_heads(&app).await;
    let rotated = latest_head(&app, key).await;
    let configured = SigningKey::generate();
    grow_to(&app, &tenant, 45).await;
    TreeHeadSigner::new(db.clone(), Some(configured.clone()))
        .run_pass()
        .await
        .unwrap();
    let after = latest_head(&app, key).await;
    assert_eq!(after["keyId"], json!(configured.kid()));
    let key_ids = [&before["keyId"], &rotated["keyId"], &after["keyId"]];
    assert!(
        key_ids[0] != key_ids[1] && key_ids[1] != key_ids[2],
        "{key_ids:?}"
    );
    let keys = published_keys(&app).await;
    let published: Vec<&Value> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert_eq!(
        published,
        key_ids.iter().rev().copied().collect::<Vec<_>>(),
        "newest first"
    );
    assert!(!keys.to_string().contains("private"), "{keys}");

    // The retained events, with proofs against the pre-purge head.
    let dir = TempDir::new();
    let retained: Vec<Value> = export(&app, key, Some(20))
        .await
        .into_iter()
        .filter(|event| event["sequence"].as_u64() <= Some(20))
        .collect();
    assert_eq!(
        retained.len(),
        20 - 9,
        "the purge deleted the planted events"
    );
    assert!(
        retained
            .iter()
            .all(|event| !event["inclusionProof"].is_null())
    );
    let retained_against = |allow_gaps| {
        Verify {
            tenant_id: &tenant.id,
            head: &dir.json("before.json", &before),
            keys: &dir.json("keys.json", &keys),
            export: Some(&dir.ndjson("retained.ndjson", &retained)),
            older: None,
            allow_gaps,
        }
        .run()
    };
    let (ok, report) = retained_against(true);
    assert!(
        ok,
        "{backend}: retained events against the old head:\n{report}"
    );
    assert!(report.contains("9 missing (--allow-gaps)"), "{report}");
    let (ok, report) = retained_against(false);
    assert!(
        !ok,
        "{backend}: the purged gap passed without --allow-gaps:\n{report}"
    );
    // The old heads against the newest.
    for old in [&before, &rotated] {
        let proof = consistency(&app, key, size_of(old), size_of(&after)).await;
        let (ok, report) = Verify {
            tenant_id: &tenant.id,
            head: &dir.json("after.json", &after),
            keys: &dir.json("keys.json", &keys),
            export: None,
            older: Some((&dir.json("old.json", old), &dir.json("proof.json", &proof))),
            allow_gaps: false,
        }
        .run();
        assert!(ok, "{backend}: {report}");
    }
    // The independent verifier: every head, every retained event's proof
    // against the newest head, every head consistent with the newest.
    let heads = all_heads(&app, key).await;
    let mut proofs = Vec::new();
    for head in &heads[1..] {
        proofs.push(consistency(&app, key, size_of(head), size_of(&after)).await);
    }
    let bundle = json!({ "tenantId": tenant.id, "keys": keys, "heads": heads,
                         "events": export(&app, key, None).await, "consistency": proofs });
    let (ok, report) = python_verify(&dir, &bundle);
    assert!(ok, "{backend}: {report}");
    assert!(
        !report.contains("root of"),
        "no root is recomputable after a purge: {report}"
    );
}

backend_tests!(heads_survive_purge_and_rotation);
