//! The IdP's access tokens as `Authorization: Bearer` credentials: JWTs checked
//! locally (signature, `iss`, `aud`, `exp`, algorithm), opaque tokens by
//! introspection (with a bounded cache), and the mapping of claims to tenant
//! and role. Token validation does not depend on the database: SQLite only,
//! except for tenant isolation, which runs on both backends.

use std::time::Duration;

use auditlog_tests::oidc::{
    JWT_RESOURCE, OPAQUE_RESOURCE, OTHER_RESOURCE, SHORT_RESOURCE, SHORT_TTL_SECS,
};
use auditlog_tests::{Backend, backend_tests, spawn_app};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{events_with_actions, fixture, fixture_with, tenant_slug};
use crate::helpers::{event, id};

/// A person's JWT reads their tenant and nothing of another one.
async fn jwt_for_tenant_a_reads_a_and_nothing_of_b(backend: Backend) {
    let f = fixture(backend).await;
    let ours = f
        .app
        .record_ok(&f.acme.admin_key, json!([event("entry.create")]))
        .await;
    let theirs = f
        .app
        .record_ok(&f.beta.admin_key, json!([event("entry.delete")]))
        .await;
    let token = f.provider.access_token("alice", JWT_RESOURCE).await;

    assert_eq!(tenant_slug(&f.app, &token).await, "acme");
    let seen: Vec<String> = f
        .app
        .all_events(&token, Value::Null)
        .await
        .iter()
        .map(id)
        .collect();
    assert!(seen.contains(&id(&ours[0])), "A's event missing: {seen:?}");
    assert!(!seen.contains(&id(&theirs[0])), "B's event visible to A");
    let by_id = f.app.event(&token, &id(&theirs[0])).await;
    assert!(
        by_id.field("auditEvent").is_null(),
        "B's event by id: {}",
        by_id.text
    );
    let facets = f.app.facets(&token).await;
    let actions = facets.field("auditEventFacets")["actions"].to_string();
    assert!(
        !actions.contains("entry.delete"),
        "B's action in A's facets: {actions}"
    );

    // The same person from tenant B's side sees only B.
    let carol = f.provider.access_token("carol", JWT_RESOURCE).await;
    assert_eq!(tenant_slug(&f.app, &carol).await, "beta");
}

/// Administrative actions by a person are audited with the person as actor;
/// an AUDITOR person may read but not administer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_the_actors_of_their_admin_actions() {
    let f = fixture(Backend::Sqlite).await;
    let alice = f.provider.access_token("alice", JWT_RESOURCE).await;
    f.app
        .create_api_key(&alice, "made by alice", "AUDITOR")
        .await;
    let created = events_with_actions(&f.app, &f.acme.admin_key, &["api_key.create"]).await;
    let actor = &created[0]["actor"];
    assert_eq!(
        actor,
        &json!({"type": "USER", "actorId": "alice", "id": "alice", "name": "Alice Admin", "email": "alice@acme.test"})
    );

    let bob = f.provider.access_token("bob", JWT_RESOURCE).await;
    assert_eq!(tenant_slug(&f.app, &bob).await, "acme");
    f.app
        .create_api_key_as(Some(&bob), "nope", "ADMIN")
        .await
        .assert_error("FORBIDDEN");
}

/// Expired, wrong-audience, wrong-issuer, badly signed, unsigned (`alg: none`)
/// and HMAC-signed tokens are each `UNAUTHENTICATED`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_jwts_are_unauthenticated() {
    let f = fixture(Backend::Sqlite).await;
    let short_lived = f.provider.access_token("alice", SHORT_RESOURCE).await;
    let obtained = std::time::Instant::now();
    let valid = f.provider.access_token("alice", JWT_RESOURCE).await;
    assert_eq!(tenant_slug(&f.app, &valid).await, "acme");

    let wrong_audience = f.provider.access_token("alice", OTHER_RESOURCE).await;
    let impostor = f.provider.start_impostor().await;
    let wrong_issuer = impostor.access_token("alice", JWT_RESOURCE).await;
    assert_eq!(
        header(&wrong_issuer)["kid"],
        header(&valid)["kid"],
        "the impostor signs with the same key, so only `iss` is wrong"
    );
    let (signing_input, signature) = valid.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let bad_signature = format!("{signing_input}.{flipped}{}", &signature[1..]);
    let payload = valid.split('.').nth(1).unwrap();
    let unsigned = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "at+jwt"}).to_string())
    );
    let hmac_signed = {
        let header = URL_SAFE_NO_PAD.encode(
            json!({"alg": "HS256", "typ": "at+jwt", "kid": f.provider.key_id()}).to_string(),
        );
        let input = format!("{header}.{payload}");
        // The key-confusion attack: the provider's public keys as an HMAC secret.
        let public_keys = reqwest::get(format!("{}/jwks", f.provider.issuer))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(public_keys.as_bytes()).unwrap();
        mac.update(input.as_bytes());
        format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    };

    for (case, token) in [
        ("wrong audience", &wrong_audience),
        ("wrong issuer", &wrong_issuer),
        ("bad signature", &bad_signature),
        ("alg none", &unsigned),
        ("HS256", &hmac_signed),
    ] {
        let response = f.app.tenant(Some(token)).await;
        assert_eq!(
            response.error_code().as_deref(),
            Some("UNAUTHENTICATED"),
            "{case}: {}",
            response.text
        );
    }

    let expiry = Duration::from_secs(SHORT_TTL_SECS + 1);
    tokio::time::sleep(expiry.saturating_sub(obtained.elapsed())).await;
    f.app
        .tenant(Some(&short_lived))
        .await
        .assert_error("UNAUTHENTICATED");
}

/// A new signing key at the provider is picked up on its first use, without
/// restarting the server; the old key's tokens then fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_is_picked_up_without_restart() {
    let mut f = fixture(Backend::Sqlite).await;
    let before = f.provider.access_token("alice", JWT_RESOURCE).await;
    assert_eq!(tenant_slug(&f.app, &before).await, "acme");
    let old_kid = f.provider.key_id();

    f.provider.restart_with_new_keys().await;
    assert_ne!(f.provider.key_id(), old_kid);
    let after = f.provider.access_token("alice", JWT_RESOURCE).await;
    assert_eq!(header(&after)["kid"], f.provider.key_id());
    assert_eq!(tenant_slug(&f.app, &after).await, "acme");
    f.app
        .tenant(Some(&before))
        .await
        .assert_error("UNAUTHENTICATED");
}

/// An opaque token is introspected; once revoked, it is refused as soon as its
/// cache entry (here at most 2 s) has expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_opaque_token_is_rejected_once_its_cache_entry_expired() {
    let f = fixture_with(Backend::Sqlite, |settings| {
        settings.oidc.oidc_introspection_cache_secs = 2;
    })
    .await;
    let token = f.provider.access_token("bob", OPAQUE_RESOURCE).await;
    assert_eq!(token.split('.').count(), 1, "expected an opaque token");
    assert_eq!(tenant_slug(&f.app, &token).await, "acme");

    f.provider.revoke(&token).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    f.app
        .tenant(Some(&token))
        .await
        .assert_error("UNAUTHENTICATED");
}

/// Verified people without a (known) tenant or without a mapped role are
/// `FORBIDDEN`, and the message names the claim.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_tenant_or_role_claims_are_forbidden_naming_the_claim() {
    let f = fixture(Backend::Sqlite).await;
    for (login, claim) in [("dave", "org_id"), ("frank", "org_id"), ("erin", "roles")] {
        let token = f.provider.access_token(login, JWT_RESOURCE).await;
        let response = f.app.tenant(Some(&token)).await;
        response.assert_error("FORBIDDEN");
        assert!(
            response.error_message().contains(&format!("`{claim}`")),
            "{login}: {}",
            response.text
        );
    }
}

/// The tenant claim may hold the tenant's id instead of its slug; opaque
/// tokens map the same way as JWTs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_claim_may_hold_the_tenant_id() {
    let f = fixture(Backend::Sqlite).await;
    f.provider.set_account(
        "gina",
        json!({"org_id": f.beta.id, "roles": ["auditor"], "name": "Gina"}),
    );
    let jwt = f.provider.access_token("gina", JWT_RESOURCE).await;
    assert_eq!(tenant_slug(&f.app, &jwt).await, "beta");
    let opaque = f.provider.access_token("gina", OPAQUE_RESOURCE).await;
    assert_eq!(tenant_slug(&f.app, &opaque).await, "beta");
}

/// With an IdP configured, API keys and the operator token work as before,
/// and a token that is neither is still `UNAUTHENTICATED`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_and_the_operator_token_still_work() {
    let f = fixture(Backend::Sqlite).await;
    assert_eq!(tenant_slug(&f.app, &f.acme.admin_key).await, "acme");
    f.app.create_tenant("gamma", "TEAM").await;
    for garbage in ["not-a-token", "a.b.c", "alk_acme_notakey"] {
        f.app
            .tenant(Some(garbage))
            .await
            .assert_error("UNAUTHENTICATED");
    }
}

/// Without an IdP, an IdP token is just an unknown credential.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_idp_tokens_are_unknown_credentials() {
    let provider = auditlog_tests::oidc::OidcProvider::start().await;
    provider.set_account("alice", json!({"org_id": "acme", "roles": ["admin"]}));
    let app = spawn_app(Backend::Sqlite).await;
    app.create_tenant("acme", "TEAM").await;
    let token = provider.access_token("alice", JWT_RESOURCE).await;
    app.tenant(Some(&token))
        .await
        .assert_error("UNAUTHENTICATED");
}

/// The decoded JOSE header of a JWT.
fn header(jwt: &str) -> Value {
    let encoded = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap()
}

backend_tests!(jwt_for_tenant_a_reads_a_and_nothing_of_b);
