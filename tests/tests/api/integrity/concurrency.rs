//! Eight writers at a time record into one tenant while heads are signed:
//! every head is consistent with the newest, and the complete export
//! recomputes it.

use auditlog_tests::database;
use auditlog_tests::{Backend, backend_tests, spawn_app};
use auditlog_worker::tree_heads::TreeHeadSigner;
use serde_json::json;

use super::{
    TempDir, Verify, all_heads, consistency, export, published_keys, python_verify, size_of,
    varied_events,
};

const WRITERS: u64 = 8;
const ROUNDS: u64 = 6;
const PER_REQUEST: u64 = 3;

async fn concurrent_writers_keep_heads_consistent(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "ENTERPRISE").await;
    let key = &tenant.admin_key;
    let signer = TreeHeadSigner::new(database::connect(app.database_url()).await, None);
    // Each round: eight writers at once while the signer passes run
    // alongside; then one more pass, so every round leaves a head of its
    // own whatever the machine's speed (at least ROUNDS heads).
    for round in 0..ROUNDS {
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let (api, key) = (app.api.clone(), tenant.admin_key.clone());
                tokio::spawn(async move {
                    let start = (round * WRITERS + writer) * PER_REQUEST;
                    let answer = api.record(&key, varied_events(start, PER_REQUEST)).await;
                    assert!(answer.errors().is_empty(), "{}", answer.text);
                })
            })
            .collect();
        while !writers.iter().all(|writer| writer.is_finished()) {
            signer.run_pass().await.unwrap();
            tokio::task::yield_now().await;
        }
        for writer in writers {
            writer.await.unwrap();
        }
        signer.run_pass().await.unwrap();
    }
    let heads = all_heads(&app, key).await;
    let newest = size_of(&heads[0]);
    assert_eq!(newest, 1 + WRITERS * ROUNDS * PER_REQUEST);
    assert!(
        heads.len() as u64 >= ROUNDS,
        "a head per round at least: {}",
        heads.len()
    );

    let dir = TempDir::new();
    let keys = published_keys(&app).await;
    let keys_file = dir.json("keys.json", &keys);
    let newest_file = dir.json("newest.json", &heads[0]);
    let mut proofs = Vec::new();
    for older in &heads[1..] {
        let proof = consistency(&app, key, size_of(older), newest).await;
        let (ok, report) = Verify {
            tenant_id: &tenant.id,
            head: &newest_file,
            keys: &keys_file,
            export: None,
            older: Some((
                &dir.json("older.json", older),
                &dir.json("proof.json", &proof),
            )),
            allow_gaps: false,
        }
        .run();
        assert!(ok, "{backend}: {report}");
        proofs.push(proof);
    }
    let events = export(&app, key, None).await;
    let (ok, report) = Verify {
        tenant_id: &tenant.id,
        head: &newest_file,
        keys: &keys_file,
        export: Some(&dir.ndjson("all.ndjson", &events)),
        older: None,
        allow_gaps: false,
    }
    .run();
    assert!(ok, "{backend}: {report}");
    let bundle = json!({ "tenantId": tenant.id, "keys": keys, "heads": heads,
                         "events": events, "consistency": proofs, "complete": true });
    let (ok, report) = python_verify(&dir, &bundle);
    assert!(ok, "{backend}: {report}");
}

backend_tests!(concurrent_writers_keep_heads_consistent);
