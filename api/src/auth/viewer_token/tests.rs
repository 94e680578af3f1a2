//! `mint` and `verify`: a minted token verifies to its claims, and every way
//! of tampering with one, or of making one up, is refused with its reason
//! and without a panic. Each test has a key ring on its own in-memory SQLite.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::{Rng, RngCore};
use serde_json::{Value, json};
use uuid::Uuid;

use super::claims::LifetimeOutOfRange;
use super::keys::tests::database;
use super::ring::CLOCK_SKEW;
use super::*;

async fn ring() -> ViewerTokenKeys {
    ViewerTokenKeys::load(database().await, None, Utc::now())
        .await
        .unwrap()
}

fn claims(now: DateTime<Utc>, lifetime: TokenLifetime) -> ViewerClaims {
    ViewerClaims::issue(
        Uuid::now_v7(),
        ViewerRole::Auditor,
        ViewerSubject {
            id: "user-42".into(),
            name: Some("Ada Lovelace".into()),
            email: Some("ada@example.com".into()),
        },
        Some(json!({"actionPrefix": "invoice.", "actorIds": ["a", "b"]})),
        lifetime,
        now,
    )
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token from given parts (for headers and signatures `mint` never makes).
fn assemble(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64(header.to_string()),
        b64(payload.to_string())
    )
}

/// Our header, with `alg` and `kid` of the test's choosing.
fn header(alg: Algorithm, kid: &str) -> Header {
    let mut header = Header::new(alg);
    header.typ = Some(TOKEN_TYPE.into());
    header.kid = Some(kid.to_owned());
    header
}

/// `payload` signed with the ring's real current key and a normal header.
fn signed(keys: &ViewerTokenKeys, payload: &Value) -> String {
    let snapshot = keys.snapshot();
    let header = header(Algorithm::EdDSA, &snapshot.signer.kid);
    jsonwebtoken::encode(&header, payload, &snapshot.signer.key).unwrap()
}

fn payload(claims: &ViewerClaims) -> Value {
    serde_json::to_value(WireClaims::from(claims)).unwrap()
}

fn refused(reason: Invalid) -> Result<ViewerClaims, ViewerTokenError> {
    Err(ViewerTokenError::Invalid(reason))
}

#[tokio::test]
async fn a_minted_token_verifies_to_its_claims() {
    let keys = ring().await;
    let now = Utc::now();
    let claims = claims(now, TokenLifetime::DEFAULT);
    let token = mint(&keys, &claims).unwrap();
    assert!(looks_like_viewer_token(&token));
    assert_eq!(verify(&keys, &token, now).await, Ok(claims.clone()));

    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        header,
        json!({"alg": "EdDSA", "typ": TOKEN_TYPE, "kid": keys.signing_kid()})
    );
    let body = payload(&claims);
    assert_eq!(body["iss"], ISSUER);
    assert_eq!(body["aud"], AUDIENCE);
    assert_eq!(body["sub"], "user-42");
    assert_eq!(body["role"], "AUDITOR");
}

#[tokio::test]
async fn expired_tokens_are_expired_within_a_few_seconds_of_leeway() {
    let keys = ring().await;
    let now = Utc::now();
    let claims = claims(now, TokenLifetime::from_secs(60).unwrap());
    let token = mint(&keys, &claims).unwrap();
    let last = claims.expires_at + Duration::seconds(LEEWAY_SECS - 1);
    assert!(verify(&keys, &token, last).await.is_ok());
    let expired = claims.expires_at + Duration::seconds(LEEWAY_SECS);
    assert_eq!(
        verify(&keys, &token, expired).await,
        Err(ViewerTokenError::Expired)
    );
}

#[tokio::test]
async fn a_tampered_payload_or_signature_is_refused() {
    let keys = ring().await;
    let now = Utc::now();
    let token = mint(&keys, &claims(now, TokenLifetime::DEFAULT)).unwrap();
    let [header, body, signature]: [&str; 3] =
        token.split('.').collect::<Vec<_>>().try_into().unwrap();

    let mut changed: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
    changed["role"] = json!("ADMIN");
    let escalated = format!("{header}.{}.{signature}", b64(changed.to_string()));
    assert_eq!(
        verify(&keys, &escalated, now).await,
        refused(Invalid::Signature)
    );

    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[10] ^= 0x01;
    let flipped = format!("{header}.{body}.{}", b64(&bytes));
    assert_eq!(
        verify(&keys, &flipped, now).await,
        refused(Invalid::Signature)
    );

    let short = format!("{header}.{body}.{}", &signature[..signature.len() - 4]);
    assert!(matches!(
        verify(&keys, &short, now).await,
        Err(ViewerTokenError::Invalid(_))
    ));
    let unsigned = format!("{header}.{body}.");
    assert!(matches!(
        verify(&keys, &unsigned, now).await,
        Err(ViewerTokenError::Invalid(_))
    ));
}

#[tokio::test]
async fn tokens_of_another_key_are_refused() {
    let keys = ring().await;
    let stranger = ring().await;
    let now = Utc::now();
    let claims = claims(now, TokenLifetime::DEFAULT);
    let theirs = mint(&stranger, &claims).unwrap();
    assert_eq!(
        verify(&keys, &theirs, now).await,
        refused(Invalid::UnknownKey)
    );

    // Signed by another key under our kid.
    let ours = header(Algorithm::EdDSA, &keys.signing_kid());
    let other = ViewerSigningKey::generate().encoding_key().unwrap();
    let forged = jsonwebtoken::encode(&ours, &payload(&claims), &other).unwrap();
    assert_eq!(
        verify(&keys, &forged, now).await,
        refused(Invalid::Signature)
    );
}

#[tokio::test]
async fn changed_algorithms_are_refused_before_any_key_is_used() {
    let keys = ring().await;
    let now = Utc::now();
    let body = payload(&claims(now, TokenLifetime::DEFAULT));
    let kid = keys.signing_kid();
    let named = |alg: &str| json!({"alg": alg, "typ": TOKEN_TYPE, "kid": kid});

    let none = assemble(&named("none"), &body, "");
    let rs256 = assemble(&named("RS256"), &body, &b64([7u8; 256]));
    // HS256 keyed with our public key, as a confused verifier would check it.
    let x = keys.snapshot().signer.public.x();
    let hs_header = header(Algorithm::HS256, &kid);
    let hs256_x =
        jsonwebtoken::encode(&hs_header, &body, &EncodingKey::from_secret(x.as_bytes())).unwrap();
    let raw = URL_SAFE_NO_PAD.decode(&x).unwrap();
    let hs256_raw =
        jsonwebtoken::encode(&hs_header, &body, &EncodingKey::from_secret(&raw)).unwrap();
    for token in [
        none,
        rs256,
        hs256_x,
        hs256_raw,
        assemble(&json!({"typ": TOKEN_TYPE, "kid": kid}), &body, ""),
    ] {
        assert!(looks_like_viewer_token(&token), "it claims to be ours");
        assert_eq!(
            verify(&keys, &token, now).await,
            refused(Invalid::Algorithm)
        );
    }
}

#[tokio::test]
async fn other_types_unknown_and_missing_kids_are_refused() {
    let keys = ring().await;
    let now = Utc::now();
    let body = payload(&claims(now, TokenLifetime::DEFAULT));
    let sig = b64([1u8; 64]);
    let jwt = assemble(
        &json!({"alg": "EdDSA", "typ": "JWT", "kid": keys.signing_kid()}),
        &body,
        &sig,
    );
    assert!(!looks_like_viewer_token(&jwt), "an identity provider's JWT");
    assert_eq!(verify(&keys, &jwt, now).await, refused(Invalid::Type));
    for header in [
        json!({"alg": "EdDSA", "typ": TOKEN_TYPE, "kid": "made-up"}),
        json!({"alg": "EdDSA", "typ": TOKEN_TYPE}),
    ] {
        let token = assemble(&header, &body, &sig);
        assert_eq!(
            verify(&keys, &token, now).await,
            refused(Invalid::UnknownKey)
        );
    }
}

#[tokio::test]
async fn claims_we_never_mint_are_refused_even_when_signed() {
    let keys = ring().await;
    let now = Utc::now();
    let good = payload(&claims(now, TokenLifetime::DEFAULT));
    let iat = now.timestamp();
    let edit = |change: &dyn Fn(&mut Value)| {
        let mut body = good.clone();
        change(&mut body);
        body
    };
    let cases = [
        (edit(&|b| b["iss"] = json!("someone-else")), Invalid::Issuer),
        (edit(&|b| b["aud"] = json!("auditlog")), Invalid::Audience),
        (edit(&|b| b["role"] = json!("PUBLISHER")), Invalid::Claims),
        (edit(&|b| b["tenant_id"] = json!("acme")), Invalid::Claims),
        (
            edit(&|b| {
                b.as_object_mut().unwrap().remove("sub");
            }),
            Invalid::Claims,
        ),
        (
            edit(&|b| b["exp"] = json!(iat + 2 * 86_400)),
            Invalid::Lifetime,
        ),
        (edit(&|b| b["exp"] = json!(iat)), Invalid::Lifetime),
        (edit(&|b| b["exp"] = json!(i64::MAX)), Invalid::Lifetime),
        (
            edit(&|b| {
                b["iat"] = json!(i64::MIN);
                b["exp"] = json!(i64::MAX)
            }),
            Invalid::Lifetime,
        ),
        (
            edit(&|b| {
                b["iat"] = json!(iat + 60);
                b["exp"] = json!(iat + 960)
            }),
            Invalid::NotYetValid,
        ),
        (edit(&|b| b["nbf"] = json!(iat + 60)), Invalid::NotYetValid),
    ];
    for (body, reason) in cases {
        let token = signed(&keys, &body);
        assert_eq!(verify(&keys, &token, now).await, refused(reason), "{body}");
    }
}

#[tokio::test]
async fn garbage_truncated_and_huge_tokens_are_refused_without_panicking() {
    let keys = ring().await;
    let now = Utc::now();
    let token = mint(&keys, &claims(now, TokenLifetime::DEFAULT)).unwrap();
    let mut inputs: Vec<String> = (0..token.len())
        .map(|end| token[..end].to_owned())
        .collect();
    inputs.extend(
        [
            "",
            ".",
            "..",
            "...",
            "a.b.c",
            "a.b.c.d",
            "é.ü.ß",
            "\0.\0.\0",
            "alk_acme_x_y",
        ]
        .map(String::from),
    );
    inputs.push(format!("{}.{}.{}", b64("[]"), b64("{}"), b64("x")));
    inputs.push(format!("{}.{}.{}", b64("null"), b64("null"), ""));
    inputs.push(format!(
        "{}.e30.",
        b64(format!(
            "{{\"typ\":\"{TOKEN_TYPE}\",\"alg\":{}}}",
            "9".repeat(400)
        ))
    ));
    let mut rng = rand::rng();
    for _ in 0..500 {
        let len = rng.random_range(0..300);
        let mut bytes = vec![0u8; len];
        rng.fill_bytes(&mut bytes);
        inputs.push(String::from_utf8_lossy(&bytes).into_owned());
        let dotted: String = (0..len)
            .map(|_| char::from(b"A-_z09.."[rng.random_range(0..8)]))
            .collect();
        inputs.push(dotted);
    }
    for input in &inputs {
        looks_like_viewer_token(input);
        assert!(
            matches!(
                verify(&keys, input, now).await,
                Err(ViewerTokenError::Invalid(_))
            ),
            "{input:?}"
        );
    }
    let huge = format!("{token}{}", "A".repeat(MAX_TOKEN_BYTES));
    assert_eq!(verify(&keys, &huge, now).await, refused(Invalid::TooLarge));
    assert!(!looks_like_viewer_token(&huge));
}

#[tokio::test]
async fn mint_refuses_what_verify_would_refuse() {
    let keys = ring().await;
    let now = Utc::now();
    // What `TokenLifetime` lets through is what `mint` and `verify` accept.
    assert_eq!(TokenLifetime::from_secs(86_401), Err(LifetimeOutOfRange));
    let mut long = claims(now, TokenLifetime::DEFAULT);
    long.expires_at = long.issued_at + Duration::days(2);
    assert!(matches!(mint(&keys, &long), Err(MintError::Lifetime)));
    let mut huge = claims(now, TokenLifetime::DEFAULT);
    huge.scope = Some(json!({"actions": vec!["x".repeat(100); 100]}));
    assert!(matches!(
        mint(&keys, &huge),
        Err(MintError::TooLarge { .. })
    ));
}

/// After a rotation the old key verifies until its retirement plus the longest
/// lifetime (plus the clock-skew allowance), and the JWKS lists both keys
/// meanwhile; then neither verifies with nor publishes it. The token from
/// the old key is minted by a replica that has not seen the rotation, so it
/// outlives the window and the window is what refuses it.
#[tokio::test]
async fn tokens_of_a_rotated_key_verify_until_its_window_closes() {
    let db = database().await;
    let start = Utc::now();
    let rotating = ViewerTokenKeys::load(db.clone(), None, start)
        .await
        .unwrap();
    let stale = ViewerTokenKeys::load(db, None, start).await.unwrap();
    let old_kid = rotating.signing_kid();
    let before = mint(&rotating, &claims(start, TokenLifetime::DEFAULT)).unwrap();

    let retired_at = start + Duration::seconds(10);
    rotating.rotate(retired_at).await.unwrap();
    let new_kid = rotating.signing_kid();
    let after = mint(&rotating, &claims(retired_at, TokenLifetime::DEFAULT)).unwrap();
    let late_old = mint(
        &stale,
        &claims(
            retired_at + Duration::minutes(10),
            TokenLifetime::from_secs(86_400).unwrap(),
        ),
    )
    .unwrap();
    assert_eq!(stale.signing_kid(), old_kid, "has not re-read yet");

    assert!(verify(&rotating, &before, retired_at).await.is_ok());
    assert!(verify(&rotating, &after, retired_at).await.is_ok());
    let jwks = rotating.jwks(retired_at).await;
    let listed: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [new_kid.as_str(), old_kid.as_str()]);

    let closes = retired_at + TokenLifetime::MAX + CLOCK_SKEW;
    assert!(
        verify(&rotating, &late_old, closes - Duration::seconds(1))
            .await
            .is_ok()
    );
    assert_eq!(
        verify(&rotating, &late_old, closes).await,
        refused(Invalid::UnknownKey)
    );
    let listed_later = rotating.jwks(closes).await;
    assert_eq!(listed_later["keys"].as_array().unwrap().len(), 1);
    assert_eq!(listed_later["keys"][0]["kid"], new_kid.as_str());
}
