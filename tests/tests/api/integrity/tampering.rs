//! Tampering is detected. In an export file: an edited field, a removed,
//! reordered or inserted event, a forged head. In the database, as its
//! superuser (what an intruder or a rogue operator could do): an updated
//! payload, a deleted row, two swapped sequences. Each is caught by
//! `auditlog verify` (the root recomputed from a complete export, or the
//! inclusion proofs of a partial one) and by the independent verifier's
//! proof checks against the head signed before the tampering.

use auditlog_tests::{Backend, TenantHandle, TestApp, backend_tests, database, spawn_app};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

use super::{
    TempDir, Verify, export, grow_to, latest_head, published_keys, python_verify, sign_heads,
    size_of,
};

/// What one tampering test checks against: the head signed before it.
struct Witness<'a> {
    app: &'a TestApp,
    key: &'a str,
    tenant_id: &'a str,
    dir: TempDir,
    head: Value,
    keys: Value,
}

impl Witness<'_> {
    /// `auditlog verify` of `events` (complete or not) against the head.
    fn verify_file(&self, name: &str, events: &[Value], head: &Value) -> (bool, String) {
        Verify {
            tenant_id: self.tenant_id,
            head: &self.dir.json(&format!("{name}-head.json"), head),
            keys: &self.dir.json("keys.json", &self.keys),
            export: Some(&self.dir.ndjson(&format!("{name}.ndjson"), events)),
            older: None,
            allow_gaps: false,
        }
        .run()
    }

    /// The export as the API now returns it, with proofs against the head.
    async fn current(&self) -> Vec<Value> {
        export(self.app, self.key, Some(size_of(&self.head))).await
    }

    /// Both verifiers on the current state of the database: it must fail.
    async fn assert_detected(&self, what: &str) {
        let events = self.current().await;
        let (ok, report) = self.verify_file(what, &events, &self.head);
        assert!(!ok, "auditlog verify passed {what}:\n{report}");
        let (ok, report) = self.verify_file(&format!("{what}-partial"), &events[1..], &self.head);
        assert!(
            !ok,
            "auditlog verify passed {what} by its inclusion proofs:\n{report}"
        );
        let bundle = json!({ "tenantId": self.tenant_id, "keys": self.keys,
                             "heads": [self.head], "events": events, "complete": true });
        let (ok, report) = python_verify(&self.dir, &bundle);
        assert!(!ok, "the independent verifier passed {what}:\n{report}");
    }
}

/// A tenant with 12 events and a signed head; its export verifies.
async fn signed_tenant<'a>(
    app: &'a TestApp,
    tenant: &'a TenantHandle,
) -> (Witness<'a>, Vec<Value>) {
    grow_to(app, tenant, 12).await;
    sign_heads(app).await;
    let witness = Witness {
        app,
        key: &tenant.admin_key,
        tenant_id: &tenant.id,
        dir: TempDir::new(),
        head: latest_head(app, &tenant.admin_key).await,
        keys: published_keys(app).await,
    };
    assert_eq!(size_of(&witness.head), 12);
    let events = witness.current().await;
    let (ok, report) = witness.verify_file("intact", &events, &witness.head);
    assert!(
        ok && report.contains("recompute the head's root"),
        "{report}"
    );
    let (ok, report) = witness.verify_file("partial", &events[4..], &witness.head);
    assert!(ok && report.contains("inclusion proof"), "{report}");
    let bundle = json!({ "tenantId": tenant.id, "keys": witness.keys, "heads": [witness.head],
                         "events": events, "complete": true });
    let (ok, report) = python_verify(&witness.dir, &bundle);
    assert!(ok, "{report}");
    (witness, events)
}

async fn a_tampered_export_fails(backend: Backend) {
    let app = spawn_app(backend).await;
    let tenant = app.create_tenant("acme", "ENTERPRISE").await;
    let (witness, events) = signed_tenant(&app, &tenant).await;
    let size = size_of(&witness.head);
    let mut edited = events.clone();
    edited[3]["payload"]["z"] = json!(999);
    let mut removed = events.clone();
    removed.remove(5);
    let mut reordered = events.clone();
    reordered.swap(2, 3);
    let mut inserted = events.clone();
    let mut forged_event = events[6].clone();
    forged_event["action"] = json!("entry.forged");
    inserted.insert(7, forged_event);
    let mut edited_partial = events[4..].to_vec();
    edited_partial[0]["actor"]["name"] = json!("Mallory");
    let mut removed_partial = events[4..].to_vec();
    removed_partial.remove(2);
    for (name, tampered) in [
        ("edited", &edited),
        ("removed", &removed),
        ("reordered", &reordered),
        ("inserted", &inserted),
        ("edited-partial", &edited_partial),
        ("removed-partial", &removed_partial),
    ] {
        let (ok, report) = witness.verify_file(name, tampered, &witness.head);
        assert!(!ok, "{backend}: the {name} export passed:\n{report}");
    }
    let mut forged = witness.head.clone();
    forged["treeSize"] = json!(size - 1);
    let (ok, report) = witness.verify_file("forged", &events[..(size - 1) as usize], &forged);
    assert!(!ok && report.contains("FAIL  head"), "{backend}: {report}");
    let mut forged = witness.head.clone();
    forged["rootHash"] = json!("00".repeat(32));
    let (ok, report) = witness.verify_file("forged-root", &events, &forged);
    assert!(!ok && report.contains("FAIL  head"), "{backend}: {report}");
}

/// One change per tenant, so each detection stands on its own.
async fn tampering_in_the_database_is_detected(backend: Backend) {
    let app = spawn_app(backend).await;
    let superuser = database::connect(app.superuser_database_url()).await;
    let p = if backend == Backend::Postgres {
        "$1"
    } else {
        "?"
    };
    let id = |events: &[Value], sequence: usize| -> uuid::Uuid {
        events[sequence - 1]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };

    let tenant = app.create_tenant("updated", "ENTERPRISE").await;
    let (witness, events) = signed_tenant(&app, &tenant).await;
    let sql = format!("UPDATE audit_events SET payload = '{{\"z\":1}}' WHERE id = {p}");
    execute(&superuser, sql, id(&events, 3)).await;
    witness.assert_detected("an updated payload").await;

    let tenant = app.create_tenant("deleted", "ENTERPRISE").await;
    let (witness, events) = signed_tenant(&app, &tenant).await;
    let sql = format!("DELETE FROM audit_events WHERE id = {p}");
    execute(&superuser, sql, id(&events, 8)).await;
    witness.assert_detected("a deleted row").await;

    // Swapped through a free sequence (the unique key forbids a direct swap).
    let tenant = app.create_tenant("swapped", "ENTERPRISE").await;
    let (witness, events) = signed_tenant(&app, &tenant).await;
    let set =
        |sequence: u64| format!("UPDATE audit_events SET sequence = {sequence} WHERE id = {p}");
    execute(&superuser, set(1_000_000), id(&events, 10)).await;
    execute(&superuser, set(10), id(&events, 11)).await;
    execute(&superuser, set(11), id(&events, 10)).await;
    let swapped = witness.current().await;
    assert_eq!(
        swapped[9]["id"],
        json!(id(&events, 11).to_string()),
        "the rows were swapped"
    );
    witness.assert_detected("swapped sequences").await;
    let bundle = json!({ "tenantId": tenant.id, "keys": witness.keys, "heads": [witness.head],
                         "events": &swapped[9..11] });
    let (ok, report) = python_verify(&witness.dir, &bundle);
    assert!(!ok, "{backend}: {report}");
    assert!(
        report.contains("FAIL  event 10 in tree 12"),
        "{backend}: {report}"
    );
    assert!(
        report.contains("FAIL  event 11 in tree 12"),
        "{backend}: {report}"
    );
}

async fn execute(db: &DatabaseConnection, sql: String, id: uuid::Uuid) {
    let statement = Statement::from_sql_and_values(db.get_database_backend(), sql, [id.into()]);
    db.execute_raw(statement).await.unwrap();
}

backend_tests!(
    a_tampered_export_fails,
    tampering_in_the_database_is_detected
);
