//! One tenant never reaches another's tree: its head is its own, another
//! tenant's event has no proof for it (the event is not found), sizes are
//! bounded by its own tree, and a head of one tenant fails verification as
//! another's (the tenant id is in the signed bytes).

use auditlog_tests::{Backend, backend_tests, spawn_app};
use serde_json::{Value, json};

use super::{
    PROOF_FIELDS, TempDir, Verify, all_heads, assert_bad_input, export, grow_to, latest_head,
    published_keys, python_verify, sign_heads, size_of,
};

async fn tenants_see_only_their_own_tree(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "ENTERPRISE").await;
    let globex = app.create_tenant("globex", "ENTERPRISE").await;
    grow_to(&app, &acme, 30).await;
    grow_to(&app, &globex, 4).await;
    sign_heads(&app).await;

    let acme_head = latest_head(&app, &acme.admin_key).await;
    let globex_head = latest_head(&app, &globex.admin_key).await;
    assert_eq!((size_of(&acme_head), size_of(&globex_head)), (30, 4));
    assert_ne!(acme_head["rootHash"], globex_head["rootHash"]);
    let globex_heads = all_heads(&app, &globex.admin_key).await;
    assert_eq!(globex_heads, vec![globex_head.clone()]);

    // Acme's events and sizes, asked for with Globex's key.
    let acme_events = export(&app, &acme.admin_key, None).await;
    let query = format!(
        "query($id: ID!, $size: Int) {{ auditEvent(id: $id) {{ inclusionProof(treeSize: $size) \
         {{ {PROOF_FIELDS} }} }} }}"
    );
    let answer = app
        .graphql(
            &query,
            json!({ "id": acme_events[20]["id"], "size": 30 }),
            Some(&globex.admin_key),
        )
        .await;
    assert!(answer.errors().is_empty(), "{}", answer.text);
    assert_eq!(answer.field("auditEvent"), &Value::Null);
    let consistency = "query($from: Int!, $to: Int!) { auditLogConsistencyProof(fromSize: $from, \
                       toSize: $to) { path } }";
    let sizes = json!({ "from": 4, "to": 30 });
    assert_bad_input(&app, &globex.admin_key, consistency, sizes).await;
    let globex_events = export(&app, &globex.admin_key, Some(4)).await;
    assert_eq!(globex_events.len(), 4);
    assert!(
        globex_events
            .iter()
            .all(|event| event["inclusionProof"]["treeSize"] == json!(4))
    );

    // A head verifies as its own tenant's only.
    let dir = TempDir::new();
    let keys = published_keys(&app).await;
    let verify = |tenant_id: &str| {
        Verify {
            tenant_id,
            head: &dir.json("acme-head.json", &acme_head),
            keys: &dir.json("keys.json", &keys),
            export: Some(&dir.ndjson("acme.ndjson", &acme_events)),
            older: None,
            allow_gaps: false,
        }
        .run()
    };
    let (ok, report) = verify(&acme.id);
    assert!(ok, "{backend}: {report}");
    let (ok, report) = verify(&globex.id);
    assert!(!ok && report.contains("FAIL  head"), "{backend}: {report}");
    let bundle = json!({ "tenantId": globex.id, "keys": keys, "heads": [acme_head],
                         "events": [] });
    let (ok, report) = python_verify(&dir, &bundle);
    assert!(!ok, "{backend}: {report}");
}

backend_tests!(tenants_see_only_their_own_tree);
