//! Proofs on trees of many shapes: heads signed at random sizes from 1 to
//! 2,000 and at every power of two ± 1 up to 2,049, then every head's
//! signature, a sample of inclusion proofs against each head, every proof
//! against the newest head, consistency proofs between consecutive heads and
//! from each to the newest, and each root recomputed from all leaves: the
//! independent verifier accepts them all, and `auditlog verify` accepts the
//! complete export.

use std::collections::BTreeSet;

use auditlog_tests::{Backend, backend_tests, spawn_app};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::{
    TempDir, Verify, all_heads, assert_bad_input, consistency, export, grow_to, inclusion_proof,
    latest_head, published_keys, python_verify, sign_heads, size_of,
};

/// Random tree sizes per run, on top of the powers of two.
const RANDOM_SIZES: usize = 8;
/// Random leaves checked per head, on top of the edges.
const RANDOM_LEAVES: usize = 4;

/// The sizes to sign heads at, ascending, and the seed that chose them.
fn head_sizes() -> (BTreeSet<u64>, u64) {
    let seed = rand::rng().random();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut sizes: BTreeSet<u64> = (1..=11)
        .flat_map(|k| {
            let power = 1u64 << k;
            [power - 1, power, power + 1]
        })
        .collect();
    sizes.insert(1);
    let wanted = sizes.len() + RANDOM_SIZES;
    while sizes.len() < wanted {
        sizes.insert(rng.random_range(1..=2000));
    }
    (sizes, seed)
}

/// The leaves whose proofs are checked against the head of `size`.
fn sampled_leaves(size: u64, rng: &mut StdRng) -> BTreeSet<u64> {
    let mut leaves: BTreeSet<u64> = [0, size / 3, size / 2, size.saturating_sub(2), size - 1]
        .into_iter()
        .collect();
    for _ in 0..RANDOM_LEAVES {
        leaves.insert(rng.random_range(0..size));
    }
    leaves
}

async fn proofs_verify_independently(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "ENTERPRISE").await;
    let key = &tenant.admin_key;
    let (sizes, seed) = head_sizes();
    eprintln!("{backend}: head sizes {sizes:?} (seed {seed})");
    for &size in &sizes {
        grow_to(&app, &tenant, size).await;
        sign_heads(&app).await;
    }
    let heads = all_heads(&app, key).await;
    let signed: Vec<u64> = heads.iter().map(size_of).rev().collect();
    assert_eq!(
        signed,
        sizes.iter().copied().collect::<Vec<_>>(),
        "one head per size"
    );
    let newest = *signed.last().unwrap();

    // Every event with its proof against the newest head, plus sampled
    // proofs against every other head.
    let mut events = export(&app, key, None).await;
    assert_eq!(events.len() as u64, newest);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut sampled = 0;
    for &size in &signed {
        for leaf in sampled_leaves(size, &mut rng) {
            let event = &mut events[leaf as usize];
            let id = event["id"].as_str().unwrap().to_owned();
            let proof = inclusion_proof(&app, key, &id, size).await;
            assert_eq!(proof["treeSize"], json!(size), "{proof}");
            push_proof(event, proof);
            sampled += 1;
        }
    }
    let mut proofs = Vec::new();
    for pair in signed.windows(2) {
        proofs.push(consistency(&app, key, pair[0], pair[1]).await);
    }
    for &size in &signed {
        proofs.push(consistency(&app, key, size, newest).await);
    }

    let dir = TempDir::new();
    let keys = published_keys(&app).await;
    let bundle = json!({ "tenantId": tenant.id, "keys": keys, "heads": heads,
                         "events": events, "consistency": proofs, "complete": true });
    let (ok, report) = python_verify(&dir, &bundle);
    assert!(
        ok,
        "{backend} (seed {seed}): the independent verifier refused:\n{report}"
    );
    let passed = report.lines().filter(|line| line.starts_with("ok")).count();
    let expected = heads.len() // signatures
        + events.len() + sampled // inclusion proofs
        + proofs.len() // consistency proofs
        + 1 // one tree origin
        + 1 + heads.len(); // contiguous, roots recomputed
    assert_eq!(passed, expected, "{report}");

    // `auditlog verify`: the complete export against the newest head.
    let head = latest_head(&app, key).await;
    assert_eq!(size_of(&head), newest);
    let (ok, report) = Verify {
        tenant_id: &tenant.id,
        head: &dir.json("head.json", &head),
        keys: &dir.json("keys.json", &keys),
        export: Some(&dir.ndjson("export.ndjson", &export(&app, key, None).await)),
        older: None,
        allow_gaps: false,
    }
    .run();
    assert!(ok, "{backend}: {report}");
    assert!(
        report.contains(&format!("the {newest} events recompute the head's root")),
        "{report}"
    );
}

/// Adds `proof` to the event's `proofs` (the bundle's list of extra proofs).
fn push_proof(event: &mut Value, proof: Value) {
    match event.get_mut("proofs").and_then(Value::as_array_mut) {
        Some(proofs) => proofs.push(proof),
        None => event["proofs"] = json!([proof]),
    }
}

/// Sizes outside the tree are `BAD_USER_INPUT`; a tree that predates the
/// event gives it no proof (null), and no head yet means no default proof.
async fn bad_sizes_are_bad_user_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "ENTERPRISE").await;
    let key = &tenant.admin_key;
    grow_to(&app, &tenant, 5).await;
    let events = export(&app, key, None).await;
    assert!(
        events.iter().all(|event| event["inclusionProof"].is_null()),
        "no head yet"
    );
    let query = "query($from: Int!, $to: Int!) { auditLogConsistencyProof(fromSize: $from, \
                 toSize: $to) { path } }";
    for (from, to) in [(0, 3), (4, 3), (1, 6), (-1, 2)] {
        assert_bad_input(&app, key, query, json!({ "from": from, "to": to })).await;
    }
    let query = "query($id: ID!, $size: Int) { auditEvent(id: $id) { inclusionProof(treeSize: \
                 $size) { leafHash } } }";
    let last = events[4]["id"].as_str().unwrap();
    for size in [0, -3, 6] {
        assert_bad_input(&app, key, query, json!({ "id": last, "size": size })).await;
    }
    let answer = app
        .graphql(query, json!({ "id": last, "size": 4 }), Some(key))
        .await;
    assert!(answer.errors().is_empty(), "{}", answer.text);
    assert_eq!(answer.field("auditEvent")["inclusionProof"], Value::Null);
    let answer = app
        .graphql(query, json!({ "id": last, "size": 5 }), Some(key))
        .await;
    assert!(
        answer.field("auditEvent")["inclusionProof"]["leafHash"].is_string(),
        "{}",
        answer.text
    );
    let page = app
        .graphql(
            "query { auditLogTreeHead { treeSize } auditLogTreeHeads { edges { cursor } } }",
            json!({}),
            Some(key),
        )
        .await;
    assert_eq!(page.field("auditLogTreeHead"), &Value::Null);
    assert_eq!(page.field("auditLogTreeHeads")["edges"], json!([]));
    let query = "query { auditLogTreeHeads(first: 101) { edges { cursor } } }";
    assert_bad_input(&app, key, query, json!({})).await;
}

backend_tests!(proofs_verify_independently, bad_sizes_are_bad_user_input);
