//! An export names, in its manifest, the signed tree head of exactly its
//! `untilSequence` leaves (signed when the export starts if none is stored):
//! `auditlog verify` checks a complete export against it with nothing but the
//! export file and the published keys, and refuses it once a line is edited.
//! With `proofs=true` each event carries its inclusion proof against that
//! head, so a partial export (from a later sequence) verifies too.

use std::process::Command;

use auditlog_tests::{Backend, backend_tests, spawn_app};
use serde_json::{Value, json};

use super::{SERVER, TempDir, all_heads, grow_to, published_keys, size_of};
use crate::export::{CSV, NDJSON, export, ndjson, ok};

/// `auditlog verify --keys <keys> <export>`: the head and the tenant from
/// the manifest.
pub(super) fn verify_with_manifest(
    keys: &std::path::Path,
    export: &std::path::Path,
) -> (bool, String) {
    let output = Command::new(SERVER)
        .arg("verify")
        .arg("--keys")
        .arg(keys)
        .arg(export)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), report)
}

async fn an_export_names_the_head_of_its_bound(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "ENTERPRISE").await;
    let key = &tenant.admin_key;
    grow_to(&app, &tenant, 25).await;
    assert!(all_heads(&app, key).await.is_empty(), "no head signed yet");

    let body = ok(export(&app.api, NDJSON, &[], Some(key)).await).body;
    let (lines, manifest) = ndjson(&body);
    let manifest = manifest.expect("a complete export");
    assert_eq!(lines.len(), 25);
    assert_eq!(manifest["tenantId"], json!(tenant.id));
    let head = &manifest["treeHead"];
    assert_eq!(size_of(head), 25, "{manifest}");
    assert_eq!(head["treeSize"], manifest["untilSequence"]);
    let stored = all_heads(&app, key).await;
    assert_eq!(stored.len(), 1, "the export signed one head: {stored:?}");
    for field in ["treeSize", "rootHash", "keyId", "signature"] {
        assert_eq!(stored[0][field], head[field], "{field}");
    }

    // The same bound again: the same head, none signed anew.
    grow_to(&app, &tenant, 30).await;
    let again = ok(export(&app.api, NDJSON, &[("untilSequence", "25")], Some(key)).await);
    let (_, again) = ndjson(&again.body);
    assert_eq!(
        again.expect("complete")["treeHead"]["signature"],
        head["signature"]
    );
    assert_eq!(all_heads(&app, key).await.len(), 1);

    let dir = TempDir::new();
    let keys = dir.json("keys.json", &published_keys(&app).await);
    let text = String::from_utf8(body.clone()).unwrap();
    let file = dir.file("export.ndjson");
    std::fs::write(&file, &text).unwrap();
    let (verified, report) = verify_with_manifest(&keys, &file);
    assert!(verified, "{backend}: {report}");
    assert!(
        report.contains("the 25 events recompute the head's root"),
        "{report}"
    );

    let mut edited: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    edited[7]["action"] = json!("entry.rewritten");
    let edited: Vec<String> = edited.iter().map(Value::to_string).collect();
    std::fs::write(&file, edited.join("\n") + "\n").unwrap();
    let (verified, report) = verify_with_manifest(&keys, &file);
    assert!(!verified, "{backend}: an edited export passed:\n{report}");
}

async fn a_partial_export_with_proofs_verifies(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "ENTERPRISE").await;
    let key = &tenant.admin_key;
    grow_to(&app, &tenant, 40).await;
    let dir = TempDir::new();
    let file = dir.file("partial.ndjson");
    let partial = |proofs: &'static str| {
        let app = &app;
        async move {
            let params = [("afterSequence", "12"), ("proofs", proofs)];
            ok(export(&app.api, NDJSON, &params, Some(key)).await).body
        }
    };

    let with_proofs = partial("true").await;
    // The export signed the first head, so the keys are published now.
    let keys = dir.json("keys.json", &published_keys(&app).await);
    let (lines, manifest) = ndjson(&with_proofs);
    assert_eq!(lines.len(), 28);
    let size = size_of(&manifest.expect("complete")["treeHead"]);
    assert!(
        lines
            .iter()
            .all(|line| line["inclusionProof"]["treeSize"] == json!(size))
    );
    std::fs::write(&file, &with_proofs).unwrap();
    let (verified, report) = verify_with_manifest(&keys, &file);
    assert!(verified, "{backend}: {report}");
    assert!(
        report.contains("event 13 is in the head's tree (inclusion proof)"),
        "{report}"
    );

    let mut edited = lines.clone();
    edited[4]["payload"] = json!({ "rewritten": true });
    let mut text: Vec<String> = edited.iter().map(Value::to_string).collect();
    text.push(json!({ "manifest": ndjson(&with_proofs).1 }).to_string());
    std::fs::write(&file, text.join("\n") + "\n").unwrap();
    let (verified, report) = verify_with_manifest(&keys, &file);
    assert!(
        !verified && report.contains("FAIL  event 17"),
        "{backend}: {report}"
    );

    let without = partial("false").await;
    assert!(
        ndjson(&without)
            .0
            .iter()
            .all(|line| line.get("inclusionProof").is_none())
    );
    std::fs::write(&file, &without).unwrap();
    let (verified, report) = verify_with_manifest(&keys, &file);
    assert!(
        !verified && report.contains("inclusion proof missing"),
        "{backend}: {report}"
    );

    for (path, proofs) in [(CSV, "true"), (NDJSON, "yes")] {
        let refused = export(&app.api, path, &[("proofs", proofs)], Some(key)).await;
        assert_eq!(refused.status, 400, "{path} proofs={proofs}");
        assert_eq!(refused.code(), "BAD_USER_INPUT");
    }
}

backend_tests!(
    an_export_names_the_head_of_its_bound,
    a_partial_export_with_proofs_verifies
);
