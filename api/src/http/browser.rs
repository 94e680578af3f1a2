//! Browser concerns of the sign-in: cookies and the CSRF check.
//!
//! - `auditlog_session`: the session (see `auth::session_secret`); HttpOnly,
//!   SameSite=Lax, Path=/, `Secure` when the public URL is https.
//! - `auditlog_login`: the state, nonce and PKCE verifier of a login in
//!   progress, between `/auth/login` and `/auth/callback`; encrypted and
//!   authenticated (AES-256-GCM, the `cookie` crate's private jar) with a key
//!   derived from the instance secret, so any replica can finish the login and
//!   the browser can neither read nor forge it. Path=/auth/callback, 10 minutes.
//!
//! CSRF: a request authenticated by the session cookie must come from an
//! allowed origin — its `Origin` header is `AUDITLOG_PUBLIC_URL`'s origin or
//! one of `AUDITLOG_CORS_ORIGINS` (`config::origins`) — or, when it has no
//! `Origin` (same-origin GETs), carry the `X-Requested-With` header, which a
//! foreign page cannot add without a CORS preflight, and this service approves
//! preflights from those origins only (`http::cors`). WebSocket upgrades
//! (which browsers always send with `Origin`) use the session cookie only from
//! an allowed origin.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, CookieJar, Key, SameSite};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha512;

use crate::auth::oidc::{LoginSettings, PendingLogin};

pub(crate) const SESSION_COOKIE: &str = "auditlog_session";
const LOGIN_COOKIE: &str = "auditlog_login";
const LOGIN_COOKIE_PATH: &str = "/auth/callback";
/// How long a browser has to come back from the IdP.
pub(crate) const LOGIN_FLOW_TTL: cookie::time::Duration = cookie::time::Duration::minutes(10);
/// The header that vouches for a same-origin request without `Origin`.
pub(crate) const CSRF_HEADER: &str = "x-requested-with";

/// A login in progress, as carried in the encrypted `auditlog_login` cookie.
#[derive(Serialize, Deserialize)]
pub struct LoginFlow {
    pub pending: PendingLogin,
    /// Local path to return to after login.
    pub return_to: String,
    /// Unix seconds; the flow is refused after [`LOGIN_FLOW_TTL`].
    pub started_at: i64,
}

#[derive(Clone)]
pub struct BrowserAuth {
    settings: LoginSettings,
    /// Encrypts the login-flow cookie.
    flow_key: Key,
}

impl BrowserAuth {
    /// `instance_secret` is shared by all replicas (`AUDITLOG_LOGIN_COOKIE_KEY`,
    /// or the cursor-signing key); the cookie key is derived from it under a
    /// label of its own, so it is never the secret itself.
    pub fn new(settings: LoginSettings, instance_secret: &str) -> anyhow::Result<Self> {
        let mut mac = Hmac::<Sha512>::new_from_slice(instance_secret.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot derive the login-cookie key: {e}"))?;
        mac.update(b"auditlog login-flow cookie encryption");
        let flow_key = Key::try_from(mac.finalize().into_bytes().as_slice())
            .map_err(|e| anyhow::anyhow!("cannot derive the login-cookie key: {e}"))?;
        Ok(Self { settings, flow_key })
    }

    pub fn settings(&self) -> &LoginSettings {
        &self.settings
    }

    /// `Err(reason)` when a cookie-authenticated request fails the CSRF check.
    pub fn check_csrf(&self, headers: &HeaderMap) -> Result<(), String> {
        match headers.get(header::ORIGIN) {
            Some(origin) if self.origin_allowed(origin) => Ok(()),
            Some(origin) => Err(format!(
                "cross-site request refused: origin {:?} may not use the session cookie",
                origin.to_str().unwrap_or("<not ASCII>")
            )),
            None if headers
                .get(CSRF_HEADER)
                .is_some_and(|value| !value.is_empty()) =>
            {
                Ok(())
            }
            None => Err(format!(
                "cross-site request refused: a request with the session cookie needs an allowed \
                 `Origin` or the `{CSRF_HEADER}` header"
            )),
        }
    }

    /// Whether a WebSocket upgrade may use the session cookie (`Origin` required).
    pub fn websocket_origin_allowed(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::ORIGIN)
            .is_some_and(|origin| self.origin_allowed(origin))
    }

    fn origin_allowed(&self, origin: &HeaderValue) -> bool {
        origin.to_str().is_ok_and(|origin| {
            self.settings
                .allowed_origins
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(origin))
        })
    }

    /// `Set-Cookie` for a new session.
    pub fn session_cookie(&self, value: String) -> HeaderValue {
        let max_age = cookie::time::Duration::seconds(
            i64::try_from(self.settings.session_ttl.as_secs()).unwrap_or(i64::MAX),
        );
        let cookie = Cookie::build((SESSION_COOKIE, value))
            .path("/")
            .http_only(true)
            .secure(self.settings.secure_cookies)
            .same_site(SameSite::Lax)
            .max_age(max_age)
            .build();
        header_value(&cookie)
    }

    /// `Set-Cookie` that deletes the session cookie.
    pub fn clear_session_cookie(&self) -> HeaderValue {
        header_value(&removal(SESSION_COOKIE, "/", self.settings.secure_cookies))
    }

    /// `Set-Cookie` carrying a login in progress, encrypted.
    pub fn login_cookie(&self, flow: &LoginFlow) -> anyhow::Result<HeaderValue> {
        let plain = Cookie::build((LOGIN_COOKIE, serde_json::to_string(flow)?))
            .path(LOGIN_COOKIE_PATH)
            .http_only(true)
            .secure(self.settings.secure_cookies)
            .same_site(SameSite::Lax)
            .max_age(LOGIN_FLOW_TTL)
            .build();
        let mut jar = CookieJar::new();
        jar.private_mut(&self.flow_key).add(plain);
        let encrypted = jar
            .get(LOGIN_COOKIE)
            .ok_or_else(|| anyhow::anyhow!("the encrypted login cookie vanished"))?;
        Ok(header_value(encrypted))
    }

    /// The login in progress, if the browser brought back an intact cookie.
    pub fn login_flow(&self, headers: &HeaderMap) -> Option<LoginFlow> {
        let value = cookie_value(headers, LOGIN_COOKIE)?;
        let jar = CookieJar::new();
        let plain = jar
            .private(&self.flow_key)
            .decrypt(Cookie::new(LOGIN_COOKIE, value))?;
        serde_json::from_str(plain.value()).ok()
    }

    /// `Set-Cookie` that deletes the login-flow cookie.
    pub fn clear_login_cookie(&self) -> HeaderValue {
        header_value(&removal(
            LOGIN_COOKIE,
            LOGIN_COOKIE_PATH,
            self.settings.secure_cookies,
        ))
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse_encoded)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

fn removal(name: &'static str, path: &'static str, secure: bool) -> Cookie<'static> {
    let mut cookie = Cookie::build((name, ""))
        .path(path)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .build();
    cookie.make_removal();
    cookie
}

fn header_value(cookie: &Cookie<'_>) -> HeaderValue {
    // Names and attributes are ours; values are alphanumerics, `.` or the
    // private jar's base64, so the encoding is always a valid header value.
    HeaderValue::from_str(&cookie.encoded().to_string())
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn browser() -> BrowserAuth {
        BrowserAuth::new(
            LoginSettings {
                redirect_url: "https://audit.example.com/auth/callback".into(),
                scopes: vec!["openid".into()],
                secure_cookies: true,
                allowed_origins: vec!["https://audit.example.com".into()],
                session_ttl: Duration::from_secs(3600),
            },
            "instance-secret",
        )
        .unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn csrf_accepts_allowed_origins_or_the_custom_header_only() {
        let browser = browser();
        assert!(
            browser
                .check_csrf(&headers(&[("origin", "https://audit.example.com")]))
                .is_ok()
        );
        assert!(
            browser
                .check_csrf(&headers(&[("origin", "https://evil.example")]))
                .is_err()
        );
        assert!(
            browser
                .check_csrf(&headers(&[
                    ("origin", "https://evil.example"),
                    (CSRF_HEADER, "1")
                ]))
                .is_err()
        );
        assert!(
            browser
                .check_csrf(&headers(&[(CSRF_HEADER, "fetch")]))
                .is_ok()
        );
        assert!(browser.check_csrf(&headers(&[])).is_err());
    }

    #[test]
    fn login_cookie_round_trips_encrypted_and_resists_tampering() {
        let browser = browser();
        let flow = LoginFlow {
            pending: PendingLogin {
                state: "s".into(),
                nonce: "n".into(),
                pkce_verifier: "v".into(),
            },
            return_to: "/graphql".into(),
            started_at: 1,
        };
        let set_cookie = browser.login_cookie(&flow).unwrap();
        let text = set_cookie.to_str().unwrap();
        assert!(!text.contains("pkce") && text.contains("HttpOnly") && text.contains("Secure"));
        let pair = text.split(';').next().unwrap().to_owned();
        let back = browser.login_flow(&headers(&[("cookie", &pair)])).unwrap();
        assert_eq!(back.pending.state, "s");
        let tampered = pair.replacen('=', "=A", 1);
        assert!(
            browser
                .login_flow(&headers(&[("cookie", &tampered)]))
                .is_none()
        );
    }

    #[test]
    fn session_cookie_attributes() {
        let text = browser().session_cookie("t.v".into());
        let text = text.to_str().unwrap();
        for attribute in [
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=3600",
        ] {
            assert!(text.contains(attribute), "{attribute} missing in {text}");
        }
    }
}
