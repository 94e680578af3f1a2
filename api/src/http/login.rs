//! The browser login for the web console (backend-for-frontend):
//!
//! - `GET /auth/login[?return_to=/path]`: starts an authorization-code flow
//!   with PKCE, `state` and `nonce` (kept in an encrypted cookie) and redirects
//!   (303) to the IdP.
//! - `GET /auth/callback`: checks `state` against the cookie, exchanges the
//!   code, validates the ID token (incl. `nonce`), maps the person to a tenant
//!   and role, opens a server-side session (a fresh id; a session the browser
//!   still had is ended) with `user.login` in the tenant's log, sets the
//!   session cookie and redirects (303) to `return_to` (default `/graphql`).
//!   A verified person of a known tenant without a mapped role gets
//!   `user.login_failed` there; every failure answers with a JSON error.
//! - `POST /auth/logout`: ends the session (`user.logout`) and clears the
//!   cookie: 204. Subject to the same CSRF check as cookie-authenticated GraphQL.
//!
//! Without `AUDITLOG_PUBLIC_URL`/`AUDITLOG_OIDC_REDIRECT_URL` these answer 404.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::browser::{BrowserAuth, LOGIN_FLOW_TTL, LoginFlow, SESSION_COOKIE, cookie_value};
use super::error::HttpError;
use super::state::AppState;
use crate::auth::oidc::{IdentityClaims, LoginFailure};
use crate::auth::person_auth::PersonOutcome;
use crate::auth::{ActorOfCaller, AuditActor, PersonCredential, Principal, session_secret};
use crate::service::user_activity;

const DEFAULT_RETURN_TO: &str = "/graphql";

#[derive(Deserialize)]
pub(super) struct LoginQuery {
    return_to: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

pub(super) async fn login(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Result<Response, HttpError> {
    let (browser, people) = configured(&state)?;
    let redirect = people
        .identity_provider()
        .start_login()
        .await
        .map_err(|error| {
            tracing::warn!(error = %error, "cannot start a browser login");
            idp_unavailable()
        })?
        .ok_or_else(not_configured)?;
    let flow = LoginFlow {
        pending: redirect.pending,
        return_to: safe_return_to(query.return_to.as_deref()),
        started_at: Utc::now().timestamp(),
    };
    let cookie = browser
        .login_cookie(&flow)
        .map_err(|error| anyhow::anyhow!("cannot build the login cookie: {error}"))?;
    see_other(&redirect.authorize_url, [cookie])
}

/// Every answer of the callback, success or failure, clears the login-flow cookie.
pub(super) async fn callback(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let Ok((browser, _)) = configured(&state) else {
        return not_configured().into_response();
    };
    let clear_flow = browser.clear_login_cookie();
    let response = finish_sign_in(&state, query, &headers)
        .await
        .unwrap_or_else(|error| {
            if let HttpError::SignInFailed(reason) = &error {
                tracing::warn!(reason = %reason, "browser login failed");
            }
            error.into_response()
        });
    with_cookies(response, [clear_flow])
}

/// The callback's work: check the flow, exchange the code, map the person,
/// open the session (or record `user.login_failed`).
async fn finish_sign_in(
    state: &AppState,
    query: CallbackQuery,
    headers: &HeaderMap,
) -> Result<Response, HttpError> {
    let (browser, people) = configured(state)?;
    let flow = check_callback(browser, people, &query, headers)
        .map_err(|reason| HttpError::SignInFailed(reason.to_owned()))?;
    let idp = people.identity_provider();
    let claims = idp
        .finish_login(query.code.unwrap_or_default(), flow.pending)
        .await
        .map_err(|failure| match failure {
            LoginFailure::Unavailable(_) => {
                tracing::warn!(error = %failure, "browser login: the identity provider is unavailable");
                idp_unavailable()
            }
            _ => HttpError::SignInFailed(failure.category().to_owned()),
        })?;
    let identity = IdentityClaims::read(&claims, &idp.settings().mapping)
        .ok_or_else(|| HttpError::SignInFailed("the ID token has no usable `sub`".into()))?;
    let credential = PersonCredential::AccessToken {
        expires_at: identity.expires_at,
    };
    let outcome = people
        .resolve(identity, credential)
        .await
        .map_err(|error| anyhow::anyhow!("browser login: database error: {error}"))?;
    match outcome {
        PersonOutcome::Accepted {
            tenant,
            role,
            person,
        } => {
            let actor = AuditActor::of_person(&person);
            let replaced =
                cookie_value(headers, SESSION_COOKIE).and_then(|v| session_secret::parse(&v));
            let ttl = chrono::Duration::from_std(browser.settings().session_ttl)
                .unwrap_or(chrono::Duration::hours(8));
            let signed_in = user_activity::sign_in(
                &state.db,
                &state.live,
                tenant.id,
                &actor,
                role,
                ttl,
                replaced,
            )
            .await
            .map_err(|error| {
                anyhow::anyhow!("browser login: cannot open the session: {error:?}")
            })?;
            tracing::info!(subject = %actor.id, tenant_id = %tenant.id, session_id = %signed_in.session.id, "person signed in");
            see_other(
                &flow.return_to,
                [browser.session_cookie(signed_in.cookie_value)],
            )
        }
        PersonOutcome::Refused {
            tenant,
            person,
            refusal,
        } => {
            crate::auth::person_auth::log_refusal(
                "browser login",
                tenant.as_ref(),
                &person,
                &refusal,
            );
            if let Some(tenant) = &tenant {
                let actor = AuditActor::of_person(&person);
                if let Err(error) = user_activity::login_failed(
                    &state.db,
                    &state.live,
                    tenant.id,
                    &actor,
                    refusal.category(),
                )
                .await
                {
                    tracing::error!(error = ?error, "cannot record user.login_failed");
                }
            }
            Err(HttpError::Forbidden(refusal.message()))
        }
        PersonOutcome::Invalid(reason) => Err(HttpError::SignInFailed(reason.to_string())),
    }
}

pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let (browser, _) = configured(&state)?;
    browser
        .check_csrf(&headers)
        .map_err(|reason| HttpError::Forbidden(reason.to_string()))?;
    let clear = browser.clear_session_cookie();
    let Some(cookie) = cookie_value(&headers, SESSION_COOKIE) else {
        return Ok(with_cookies(
            StatusCode::NO_CONTENT.into_response(),
            [clear],
        ));
    };
    let principal = state
        .authenticator
        .authenticate_session(&cookie, None)
        .await
        .map_err(|error| anyhow::anyhow!("logout: cannot read the session: {error:?}"))?;
    if let Principal::Tenant(caller) = &principal
        && let crate::auth::CallerIdentity::Person(person) = &caller.identity
        && let Some(session_id) = person.session_id()
    {
        let actor = AuditActor::of_person(person);
        user_activity::sign_out(&state.db, &state.live, caller.tenant_id, session_id, &actor)
            .await
            .map_err(|error| anyhow::anyhow!("logout: cannot end the session: {error:?}"))?;
        tracing::info!(subject = %actor.id, session_id = %session_id, "person signed out");
    }
    Ok(with_cookies(
        StatusCode::NO_CONTENT.into_response(),
        [clear],
    ))
}

/// Why a callback cannot even be attempted; `Ok` is the login in progress.
fn check_callback(
    browser: &BrowserAuth,
    people: &crate::auth::People,
    query: &CallbackQuery,
    headers: &HeaderMap,
) -> Result<LoginFlow, &'static str> {
    let flow = browser.login_flow(headers).ok_or("login_expired")?;
    let age = Utc::now().timestamp() - flow.started_at;
    if age < 0 || age > LOGIN_FLOW_TTL.whole_seconds() {
        return Err("login_expired");
    }
    if query.error.is_some() {
        // The IdP's own error code is not echoed: it is the IdP's business.
        return Err("idp_error");
    }
    let state_matches = query
        .state
        .as_deref()
        .is_some_and(|state| bool::from(state.as_bytes().ct_eq(flow.pending.state.as_bytes())));
    if !state_matches {
        return Err("state_mismatch");
    }
    // RFC 9207: when the IdP names itself, it must be ours (mix-up defence).
    if let Some(iss) = &query.iss
        && *iss != people.identity_provider().settings().issuer
    {
        return Err("issuer_mismatch");
    }
    if query.code.as_deref().is_none_or(str::is_empty) {
        return Err("missing_code");
    }
    Ok(flow)
}

fn configured(state: &AppState) -> Result<(&BrowserAuth, &crate::auth::People), HttpError> {
    state
        .browser
        .as_ref()
        .zip(state.authenticator.people())
        .ok_or_else(not_configured)
}

/// Only local paths: never an open redirect.
fn safe_return_to(requested: Option<&str>) -> String {
    match requested {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => DEFAULT_RETURN_TO.to_owned(),
    }
}

fn see_other<const N: usize>(
    location: &str,
    cookies: [HeaderValue; N],
) -> Result<Response, HttpError> {
    let location = HeaderValue::from_str(location)
        .map_err(|error| anyhow::anyhow!("cannot redirect to {location:?}: {error}"))?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(with_cookies(response, cookies))
}

fn with_cookies<const N: usize>(mut response: Response, cookies: [HeaderValue; N]) -> Response {
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn not_configured() -> HttpError {
    HttpError::NotFound("browser login is not configured on this server")
}

fn idp_unavailable() -> HttpError {
    HttpError::Unavailable("the identity provider is unavailable; try again shortly".into())
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn return_to_is_a_local_path_only() {
        assert_eq!(safe_return_to(Some("/console?x=1")), "/console?x=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "evil",
            "/a\nb",
        ] {
            assert_eq!(safe_return_to(Some(bad)), "/graphql", "{bad}");
        }
        assert_eq!(safe_return_to(None), "/graphql");
    }
}
