//! Issue 16, viewer tokens: minted by a tenant's ADMIN credential
//! (`createViewerToken`), accepted as bearer tokens on HTTP and WebSocket,
//! each role's limits, the scope ANDed into every read (list, permalink,
//! facets, a live subscription), forged tokens refused, a socket closed at
//! the token's expiry, and key rotation keeping old tokens valid.

use auditlog_tests::ws::{TRANSPORT_WS, WsClient};
use auditlog_tests::{
    Backend, GqlResponse, TestApp, backend_tests, queries, spawn_app, spawn_app_with,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use serde_json::{Value, json};

use crate::helpers::event;

const CREATE_VIEWER_TOKEN: &str = "mutation($input: ViewerTokenInput!) { \
     createViewerToken(input: $input) { token expiresAt tokenId } }";
const ROTATE_KEY: &str = "mutation { rotateViewerTokenKey }";
const FACET_ACTIONS: &str = "query($filter: AuditEventFilter) { auditEventFacets(filter: $filter) \
     { actions { value count } } }";

/// The Ed25519 key of RFC 8037 appendix A.1 (PKCS#8 PEM) and its kid (the
/// RFC 7638 thumbprint, A.3): configured, it lets a test sign tokens itself.
const RFC8037_PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
    MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n\
    -----END PRIVATE KEY-----\n";
const RFC8037_KID: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
/// Another Ed25519 key (seed of 32 bytes 0x07), which signs nothing of ours.
const OTHER_PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
    MC4CAQAwBQYDK2VwBCIEIAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH\n\
    -----END PRIVATE KEY-----\n";

fn input(role: &str, subject: &str, scope: Option<Value>) -> Value {
    let mut input = json!({ "role": role, "subject": { "id": subject, "name": "Dana Viewer",
        "email": "dana@example.com" } });
    if let Some(scope) = scope {
        input["scope"] = scope;
    }
    json!({ "input": input })
}

async fn mint(app: &TestApp, bearer: &str, variables: Value) -> String {
    let answer = app
        .graphql(CREATE_VIEWER_TOKEN, variables, Some(bearer))
        .await;
    answer.field("createViewerToken")["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {}", answer.text))
        .to_owned()
}

async fn record(app: &TestApp, key: &str, actions: &[&str]) -> Vec<Value> {
    let events: Vec<Value> = actions.iter().map(|action| event(action)).collect();
    let answer = app
        .graphql(
            queries::RECORD_EVENTS,
            json!({ "events": events }),
            Some(key),
        )
        .await;
    answer.field("recordAuditEvents")["events"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("not recorded: {}", answer.text))
}

#[track_caller]
fn assert_code(answer: &GqlResponse, code: &str) {
    assert_eq!(
        answer.error_code().as_deref(),
        Some(code),
        "{}",
        answer.text
    );
}

fn actions_of(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn an_admin_mints_tokens_and_the_mint_is_recorded(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let answer = app
        .graphql(
            CREATE_VIEWER_TOKEN,
            input("AUDITOR", "user-42", None),
            Some(&acme.admin_key),
        )
        .await;
    let minted = answer.field("createViewerToken");
    let token = minted["token"].as_str().expect("a token");
    let token_id = minted["tokenId"].as_str().expect("a token id");
    let lifetime = crate::helpers::instant(&minted["expiresAt"]) - Utc::now();
    assert!(
        (880..=900).contains(&lifetime.num_seconds()),
        "default 900 s: {minted}"
    );
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap_or_default())
            .expect("base64url header"),
    )
    .expect("a JSON header");
    assert_eq!(header["alg"], "EdDSA");
    let jwks = app
        .get("/.well-known/jwks.json", "application/json", None)
        .await;
    assert_eq!(jwks.body["keys"][0]["kid"], header["kid"], "{}", jwks.text);

    // Recorded in the tenant's log, with the caller as actor, never the token.
    let log = app
        .all_events(
            &acme.admin_key,
            json!({ "actions": ["viewer_token.create"] }),
        )
        .await;
    assert_eq!(log.len(), 1, "{log:?}");
    let recorded = &log[0];
    assert_eq!(recorded["actor"]["type"], "API_KEY");
    assert_eq!(recorded["actor"]["actorId"], acme.admin_key_id.as_str());
    assert_eq!(recorded["target"]["targetId"], token_id);
    let payload = &recorded["payload"];
    assert_eq!(payload["role"], "auditor");
    assert_eq!(payload["subject"]["id"], "user-42");
    assert_eq!(payload["tokenId"], token_id);
    assert!(payload["expiresAt"].is_string(), "{payload}");
    assert!(
        !recorded.to_string().contains(token),
        "the token is not logged"
    );

    // Bad input is typed; other roles may not mint.
    for variables in [
        input("PUBLISHER", "u", None),
        json!({ "input": { "role": "AUDITOR", "subject": { "id": "u" }, "expiresInSeconds": 59 } }),
        json!({ "input": { "role": "AUDITOR", "subject": { "id": "u" }, "expiresInSeconds": 86401 } }),
        json!({ "input": { "role": "AUDITOR", "subject": { "id": "  " } } }),
        input("AUDITOR", "u", Some(json!({ "search": "acme" }))),
        input("AUDITOR", "u", Some(json!({ "ipAddress": "nope" }))),
    ] {
        let answer = app
            .graphql(CREATE_VIEWER_TOKEN, variables, Some(&acme.admin_key))
            .await;
        assert_code(&answer, "BAD_USER_INPUT");
    }
    for role in ["AUDITOR", "PUBLISHER"] {
        let created = app
            .graphql(
                queries::CREATE_API_KEY,
                json!({ "name": role, "role": role }),
                Some(&acme.admin_key),
            )
            .await;
        let key = created.field("createApiKey")["secret"]
            .as_str()
            .expect("a key")
            .to_owned();
        let answer = app
            .graphql(CREATE_VIEWER_TOKEN, input("AUDITOR", "u", None), Some(&key))
            .await;
        assert_code(&answer, "FORBIDDEN");
    }
    let operator = app
        .graphql(
            CREATE_VIEWER_TOKEN,
            input("AUDITOR", "u", None),
            Some(&app.operator_token),
        )
        .await;
    assert_code(&operator, "FORBIDDEN");
}

async fn each_role_does_what_it_may_and_no_more(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "ENTERPRISE").await;
    record(&app, &acme.admin_key, &["doc.read"]).await;
    let auditor = mint(&app, &acme.admin_key, input("AUDITOR", "aud-1", None)).await;
    let admin = mint(&app, &acme.admin_key, input("ADMIN", "adm-1", None)).await;

    for token in [&auditor, &admin] {
        for query in [queries::LIST_EVENTS, queries::FACETS, queries::TENANT] {
            let answer = app.graphql(query, json!({}), Some(token)).await;
            assert!(answer.errors().is_empty(), "{}", answer.text);
        }
        // Never: recording, API keys, minting.
        for (query, variables) in [
            (queries::RECORD_EVENTS, json!({ "events": [event("a.b")] })),
            (
                queries::CREATE_API_KEY,
                json!({ "name": "x", "role": "ADMIN" }),
            ),
            (queries::REVOKE_API_KEY, json!({ "id": acme.admin_key_id })),
            (CREATE_VIEWER_TOKEN, input("AUDITOR", "x", None)),
        ] {
            let answer = app.graphql(query, variables, Some(token)).await;
            assert_code(&answer, "FORBIDDEN");
        }
    }
    let as_auditor = app
        .graphql(
            queries::SET_RETENTION_POLICY,
            json!({ "days": 5 }),
            Some(&auditor),
        )
        .await;
    assert_code(&as_auditor, "FORBIDDEN");
    // An ADMIN token configures retention and legal hold, as its subject.
    let as_admin = app
        .graphql(
            queries::SET_RETENTION_POLICY,
            json!({ "days": 30 }),
            Some(&admin),
        )
        .await;
    assert!(as_admin.errors().is_empty(), "{}", as_admin.text);
    let hold = app
        .graphql(
            queries::SET_LEGAL_HOLD,
            json!({ "enabled": true, "reason": "audit" }),
            Some(&admin),
        )
        .await;
    assert!(hold.errors().is_empty(), "{}", hold.text);
    let changes = app
        .all_events(&acme.admin_key, json!({ "actions": ["retention.update"] }))
        .await;
    assert_eq!(changes[0]["actor"]["type"], "USER", "{changes:?}");
    assert_eq!(changes[0]["actor"]["actorId"], "adm-1");
    assert_eq!(changes[0]["actor"]["name"], "Dana Viewer");
}

async fn a_token_reads_its_own_tenant_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let globex = app.create_tenant("globex", "TEAM").await;
    let secret = record(&app, &globex.admin_key, &["globex.secret"]).await;
    record(&app, &acme.admin_key, &["acme.visible"]).await;
    let token = mint(&app, &acme.admin_key, input("AUDITOR", "u", None)).await;

    for named in [globex.slug.as_str(), globex.id.as_str(), "initech"] {
        let answer = app
            .graphql_with_headers(
                queries::LIST_EVENTS,
                json!({}),
                Some(&token),
                &[("Auditlog-Tenant", named)],
            )
            .await;
        assert_code(&answer, "FORBIDDEN");
    }
    let own = app
        .graphql_with_headers(
            queries::LIST_EVENTS,
            json!({}),
            Some(&token),
            &[("Auditlog-Tenant", &acme.slug)],
        )
        .await;
    assert!(own.errors().is_empty(), "{}", own.text);
    let seen = actions_of(&app.all_events(&token, json!({})).await);
    assert!(seen.contains(&"acme.visible".to_owned()), "{seen:?}");
    assert!(!seen.iter().any(|a| a.starts_with("globex")), "{seen:?}");
    let permalink = app
        .graphql(
            queries::EVENT_BY_ID,
            json!({ "id": secret[0]["id"] }),
            Some(&token),
        )
        .await;
    assert!(
        permalink.field("auditEvent").is_null(),
        "{}",
        permalink.text
    );

    // A platform ADMIN key mints for the tenant it names; a PUBLISHER may not.
    for (role, allowed) in [("ADMIN", true), ("PUBLISHER", false)] {
        let created = app
            .graphql(
                "mutation($role: PlatformRole!) { createPlatformKey(name: \"p\", role: $role) { secret } }",
                json!({ "role": role }),
                Some(&app.operator_token),
            )
            .await;
        let key = created.field("createPlatformKey")["secret"]
            .as_str()
            .expect("a platform key")
            .to_owned();
        let answer = app
            .graphql_with_headers(
                CREATE_VIEWER_TOKEN,
                input("AUDITOR", "u", None),
                Some(&key),
                &[("Auditlog-Tenant", &globex.slug)],
            )
            .await;
        if !allowed {
            assert_code(&answer, "FORBIDDEN");
            continue;
        }
        let globex_token = answer.field("createViewerToken")["token"]
            .as_str()
            .expect("a token")
            .to_owned();
        let seen = actions_of(&app.all_events(&globex_token, json!({})).await);
        assert!(seen.contains(&"globex.secret".to_owned()), "{seen:?}");
        assert!(!seen.iter().any(|a| a.starts_with("acme")), "{seen:?}");
    }
}

async fn the_scope_narrows_every_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let recorded = record(
        &app,
        &acme.admin_key,
        &["doc.read", "doc.update", "user.login", "doc.update"],
    )
    .await;
    let scope = json!({ "actionPrefix": "doc.", "outcome": "SUCCESS" });
    let token = mint(&app, &acme.admin_key, input("AUDITOR", "u", Some(scope))).await;

    // Lists: only in scope, and a client filter narrows but never widens.
    let mut all = actions_of(&app.all_events(&token, json!({})).await);
    all.sort();
    assert_eq!(all, ["doc.read", "doc.update", "doc.update"]);
    let outside = app
        .all_events(&token, json!({ "actions": ["user.login"] }))
        .await;
    assert!(outside.is_empty(), "{outside:?}");
    let narrower = actions_of(
        &app.all_events(&token, json!({ "actions": ["doc.read", "user.login"] }))
            .await,
    );
    assert_eq!(narrower, ["doc.read"]);
    let contradiction = app
        .all_events(&token, json!({ "outcome": "FAILURE" }))
        .await;
    assert!(contradiction.is_empty(), "{contradiction:?}");

    // Permalinks: outside the scope is null, like another tenant's.
    for (event, visible) in [(&recorded[1], true), (&recorded[2], false)] {
        let answer = app
            .graphql(
                queries::EVENT_BY_ID,
                json!({ "id": event["id"] }),
                Some(&token),
            )
            .await;
        assert_eq!(
            !answer.field("auditEvent").is_null(),
            visible,
            "{}",
            answer.text
        );
    }

    // Facets count only what the scope shows.
    let facets = app.graphql(FACET_ACTIONS, json!({}), Some(&token)).await;
    let values: Vec<Value> = facets.field("auditEventFacets")["actions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        values,
        [
            json!({ "value": "doc.update", "count": 2 }),
            json!({ "value": "doc.read", "count": 1 })
        ],
        "{}",
        facets.text
    );

    // A live subscription: replay and live events, in scope only.
    let mut ws = WsClient::connect_and_init(&app.ws_url(), &token).await;
    ws.subscribe("1", queries::SUBSCRIPTION, json!({ "after": 0 }))
        .await;
    let mut replayed = Vec::new();
    for _ in 0..3 {
        replayed.push(ws.next_event("1").await["action"].clone());
    }
    assert_eq!(replayed, ["doc.read", "doc.update", "doc.update"]);
    record(&app, &acme.admin_key, &["user.logout", "doc.delete"]).await;
    let live = ws.next_event("1").await;
    assert_eq!(live["action"], "doc.delete", "user.logout is out of scope");
    ws.close().await;
}

/// A token signed here with `pem` under `kid`, with these claims.
fn signed(pem: &str, kid: &str, alg: jsonwebtoken::Algorithm, claims: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(alg);
    header.typ = Some("auditlog-viewer+jwt".into());
    header.kid = Some(kid.into());
    let key = match alg {
        jsonwebtoken::Algorithm::EdDSA => {
            let body: String = pem
                .lines()
                .filter(|line| !line.starts_with("-----"))
                .collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(body.trim())
                .expect("PEM base64");
            jsonwebtoken::EncodingKey::from_ed_der(&der)
        }
        _ => jsonwebtoken::EncodingKey::from_secret(pem.as_bytes()),
    };
    jsonwebtoken::encode(&header, claims, &key).expect("signed")
}

fn claims(tenant_id: &str, role: &str, lifetime_secs: i64) -> Value {
    let now = Utc::now().timestamp();
    json!({ "iss": "auditlog", "aud": "auditlog-viewer", "sub": "forger", "tenant_id": tenant_id,
            "role": role, "jti": uuid::Uuid::now_v7(), "iat": now, "exp": now + lifetime_secs })
}

async fn forged_and_expired_tokens_are_refused(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.viewer_tokens.viewer_token_key = Some(RFC8037_PEM.into());
    })
    .await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let globex = app.create_tenant("globex", "TEAM").await;
    let good = claims(&acme.id, "AUDITOR", 600);
    let valid = signed(
        RFC8037_PEM,
        RFC8037_KID,
        jsonwebtoken::Algorithm::EdDSA,
        &good,
    );
    let accepted = app.graphql(queries::TENANT, json!({}), Some(&valid)).await;
    assert_eq!(
        accepted.field("tenant")["slug"],
        "acme",
        "a token signed with the configured key works: {}",
        accepted.text
    );

    let mut expired = claims(&acme.id, "AUDITOR", 600);
    expired["iat"] = json!(Utc::now().timestamp() - 700);
    expired["exp"] = json!(Utc::now().timestamp() - 100);
    let parts: Vec<&str> = valid.split('.').collect();
    let mut promoted = good.clone();
    promoted["role"] = json!("ADMIN");
    promoted["tenant_id"] = json!(globex.id);
    let tampered_payload = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(promoted.to_string()),
        parts[2]
    );
    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("signature");
    signature[0] ^= 1;
    let tampered_signature = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        URL_SAFE_NO_PAD.encode(signature)
    );
    let none_header = URL_SAFE_NO_PAD
        .encode(r#"{"alg":"none","typ":"auditlog-viewer+jwt","kid":"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"}"#);
    let forged = [
        (
            "expired",
            signed(
                RFC8037_PEM,
                RFC8037_KID,
                jsonwebtoken::Algorithm::EdDSA,
                &expired,
            ),
        ),
        ("payload changed", tampered_payload),
        ("signature changed", tampered_signature),
        (
            "another key under our kid",
            signed(
                OTHER_PEM,
                RFC8037_KID,
                jsonwebtoken::Algorithm::EdDSA,
                &good,
            ),
        ),
        (
            "HS256 keyed with the public key",
            signed(
                "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                RFC8037_KID,
                jsonwebtoken::Algorithm::HS256,
                &good,
            ),
        ),
        ("alg none", format!("{none_header}.{}.", parts[1])),
        (
            "a tenant that does not exist",
            signed(
                RFC8037_PEM,
                RFC8037_KID,
                jsonwebtoken::Algorithm::EdDSA,
                &claims("00000000-0000-4000-8000-00000000abcd", "AUDITOR", 600),
            ),
        ),
    ];
    for (what, token) in forged {
        let answer = app.graphql(queries::TENANT, json!({}), Some(&token)).await;
        assert_eq!(
            answer.error_code().as_deref(),
            Some("UNAUTHENTICATED"),
            "{what}: {}",
            answer.text
        );
    }
}

async fn a_socket_closes_at_the_tokens_expiry(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.viewer_tokens.viewer_token_key = Some(RFC8037_PEM.into());
    })
    .await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let token = signed(
        RFC8037_PEM,
        RFC8037_KID,
        jsonwebtoken::Algorithm::EdDSA,
        &claims(&acme.id, "AUDITOR", 3),
    );
    let mut ws = WsClient::connect(&app.ws_url(), TRANSPORT_WS).await;
    ws.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    assert_eq!(ws.next_json().await["type"], "connection_ack");
    ws.subscribe("1", queries::SUBSCRIPTION, json!({})).await;
    let (code, reason) = ws.close_frame().await;
    assert_eq!((code, reason.as_str()), (4403, "token expired"));
}

async fn rotation_keeps_old_tokens_valid(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.create_tenant("acme", "TEAM").await;
    let old = mint(&app, &acme.admin_key, input("AUDITOR", "u", None)).await;
    let refused = app
        .graphql(ROTATE_KEY, json!({}), Some(&acme.admin_key))
        .await;
    assert_code(&refused, "FORBIDDEN");
    let rotated = app
        .graphql(ROTATE_KEY, json!({}), Some(&app.operator_token))
        .await;
    let new_kid = rotated.field("rotateViewerTokenKey").clone();
    let jwks = app
        .get("/.well-known/jwks.json", "application/json", None)
        .await;
    let kids: Vec<Value> = jwks.body["keys"]
        .as_array()
        .map(|keys| keys.iter().map(|k| k["kid"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(kids.len(), 2, "the old key stays published: {}", jwks.text);
    assert_eq!(kids[0], new_kid);

    let new = mint(&app, &acme.admin_key, input("AUDITOR", "u", None)).await;
    let kid_of = |token: &str| -> Value {
        let header = URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap_or_default())
            .unwrap_or_default();
        serde_json::from_slice::<Value>(&header).unwrap_or_default()["kid"].clone()
    };
    assert_eq!(kid_of(&new), new_kid);
    assert_ne!(kid_of(&old), new_kid);
    for token in [&old, &new] {
        let answer = app.graphql(queries::TENANT, json!({}), Some(token)).await;
        assert_eq!(answer.field("tenant")["slug"], "acme", "{}", answer.text);
    }
    let log = app
        .graphql(
            "query { platformAuditEvents(first: 5, filter: { actions: [\"viewer_token_key.rotate\"] }) \
             { edges { node { target { targetId } } } } }",
            json!({}),
            Some(&app.operator_token),
        )
        .await;
    assert_eq!(
        log.field("platformAuditEvents")["edges"][0]["node"]["target"]["targetId"],
        new_kid,
        "{}",
        log.text
    );

    let configured = spawn_app_with(backend, |settings| {
        settings.viewer_tokens.viewer_token_key = Some(RFC8037_PEM.into());
    })
    .await;
    let answer = configured
        .graphql(ROTATE_KEY, json!({}), Some(&configured.operator_token))
        .await;
    assert_code(&answer, "BAD_USER_INPUT");
}

backend_tests!(
    an_admin_mints_tokens_and_the_mint_is_recorded,
    each_role_does_what_it_may_and_no_more,
    a_token_reads_its_own_tenant_only,
    the_scope_narrows_every_read,
    forged_and_expired_tokens_are_refused,
    a_socket_closes_at_the_tokens_expiry,
    rotation_keeps_old_tokens_valid,
);
