//! A real OpenID Provider for the sign-in tests: the `oidc-provider` npm package
//! with our configuration (`tests/oidc/provider.mjs`), run by Node.js on a free
//! loopback port.
//!
//! - [`OidcProvider::start`] installs the locked npm packages on first use
//!   (`npm ci` in `tests/oidc`), starts the provider and waits until its
//!   discovery document answers.
//! - Accounts (login → claims such as `org_id`, `roles`, `name`, `email`) live
//!   in a JSON file the provider reads at every use: [`OidcProvider::set_account`].
//! - Tokens come from the real authorization-code flow with PKCE, driven like
//!   a browser through the provider's login and consent forms
//!   ([`OidcProvider::access_token`]); the resource indicator chooses the format
//!   (JWT, opaque, short-lived, foreign audience: see the `*_RESOURCE` constants).
//! - Key rotation: [`OidcProvider::restart_with_new_keys`] restarts it on the
//!   same port and issuer with a new signing key.
//! - [`spawn_app_with_oidc`] starts the server under test configured for it.
//!
//! The provider and its files go away when the value is dropped.

mod browser;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use auditlog_api::config::Settings;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::process::{Child, Command};

pub use browser::{Browser, Followed};

use crate::{Backend, TestApp, spawn_app_with};

/// The audience of this API's access tokens at the provider.
pub const API_AUDIENCE: &str = "https://api.auditlog.test";
/// Resource indicator of JWT access tokens for this API.
pub const JWT_RESOURCE: &str = "https://api.auditlog.test";
/// Resource indicator of opaque access tokens for this API (introspection).
pub const OPAQUE_RESOURCE: &str = "https://opaque.auditlog.test";
/// Resource indicator of JWT access tokens living [`SHORT_TTL_SECS`].
pub const SHORT_RESOURCE: &str = "https://short.auditlog.test";
/// Resource indicator of JWTs for another API (wrong audience here).
pub const OTHER_RESOURCE: &str = "https://other.example.test";
pub const SHORT_TTL_SECS: u64 = 3;
/// This service's client at the provider.
pub const CLIENT_ID: &str = "auditlog-console";
pub const CLIENT_SECRET: &str = "console-secret-for-tests";
/// Scopes the server under test requests at browser login.
pub const LOGIN_SCOPES: &str = "openid profile email org";

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

/// Installs the locked npm packages of `tests/oidc` once per test process.
fn ensure_node_modules() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if provider_dir().join("node_modules/oidc-provider").exists() {
            return;
        }
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(provider_dir())
            .status()
            .unwrap_or_else(|e| panic!("cannot run npm (install Node.js 20 and npm): {e}"));
        assert!(
            status.success(),
            "npm ci failed in {}",
            provider_dir().display()
        );
    });
}

/// A free loopback port (bound and released; the provider binds it next).
pub fn free_port() -> u16 {
    TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|e| panic!("cannot find a free port: {e}"))
}

/// A running provider; killed (and its files removed) on drop.
pub struct OidcProvider {
    /// `http://127.0.0.1:<port>`: issuer and base URL.
    pub issuer: String,
    port: u16,
    /// Private JWKS of the current signing key.
    keys_file: PathBuf,
    accounts_file: PathBuf,
    log_file: PathBuf,
    child: Child,
    /// Files to delete on drop (key sets of earlier runs included).
    files: Vec<PathBuf>,
}

impl OidcProvider {
    /// Starts a provider with a new signing key and no accounts.
    pub async fn start() -> Self {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir();
        let keys_file = dir.join(format!("auditlog-oidc-keys-{unique}.json"));
        let accounts_file = dir.join(format!("auditlog-oidc-accounts-{unique}.json"));
        Self::start_with(free_port(), keys_file, accounts_file).await
    }

    /// A second provider (another port, so another issuer) signing with this
    /// one's key: its tokens carry a valid signature and the wrong `iss`.
    pub async fn start_impostor(&self) -> Self {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        let accounts_file =
            std::env::temp_dir().join(format!("auditlog-oidc-accounts-{unique}.json"));
        std::fs::copy(&self.accounts_file, &accounts_file)
            .unwrap_or_else(|e| panic!("cannot copy the accounts file: {e}"));
        let mut impostor =
            Self::start_with(free_port(), self.keys_file.clone(), accounts_file).await;
        // The key file belongs to `self`.
        impostor.files.retain(|file| *file != self.keys_file);
        impostor
    }

    async fn start_with(port: u16, keys_file: PathBuf, accounts_file: PathBuf) -> Self {
        ensure_node_modules();
        if !accounts_file.exists() {
            write_json(&accounts_file, &json!({}));
        }
        let log_file = accounts_file.with_extension("log");
        let child = spawn(port, &keys_file, &accounts_file, &log_file);
        let provider = Self {
            issuer: format!("http://127.0.0.1:{port}"),
            port,
            files: vec![keys_file.clone(), accounts_file.clone(), log_file.clone()],
            keys_file,
            accounts_file,
            log_file,
            child,
        };
        provider.wait_until_ready().await;
        provider
    }

    /// Restarts on the same port and issuer with a new signing key (a key
    /// rotation: the JWKS then holds only the new key).
    pub async fn restart_with_new_keys(&mut self) {
        let _ = self.child.kill().await;
        let unique = uuid::Uuid::new_v4().simple().to_string();
        self.keys_file = std::env::temp_dir().join(format!("auditlog-oidc-keys-{unique}.json"));
        self.files.push(self.keys_file.clone());
        self.child = spawn(
            self.port,
            &self.keys_file,
            &self.accounts_file,
            &self.log_file,
        );
        self.wait_until_ready().await;
    }

    /// Sets the claims of `login` (replacing earlier ones).
    pub fn set_account(&self, login: &str, claims: Value) {
        let mut accounts = std::fs::read_to_string(&self.accounts_file)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .unwrap_or_else(|| json!({}));
        accounts[login] = claims;
        write_json(&self.accounts_file, &accounts);
    }

    /// The key id of the current signing key.
    pub fn key_id(&self) -> String {
        let keys: Value = serde_json::from_str(
            &std::fs::read_to_string(&self.keys_file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", self.keys_file.display())),
        )
        .unwrap_or_else(|e| panic!("bad key file: {e}"));
        keys["keys"][0]["kid"]
            .as_str()
            .unwrap_or_else(|| panic!("no kid in the key file"))
            .to_owned()
    }

    /// An access token for `login` and `resource`, from the authorization-code
    /// flow with PKCE of the public test client, driven through the provider's
    /// login and consent forms.
    pub async fn access_token(&self, login: &str, resource: &str) -> String {
        let browser = Browser::new();
        let verifier = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let redirect_uri = format!("http://127.0.0.1:{}/test/callback", self.port);
        let mut authorize = reqwest::Url::parse(&format!("{}/auth", self.issuer))
            .unwrap_or_else(|e| panic!("bad issuer URL: {e}"));
        authorize
            .query_pairs_mut()
            .append_pair("client_id", "test-spa")
            .append_pair("response_type", "code")
            .append_pair("scope", "openid profile email org")
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("resource", resource)
            .append_pair("state", "test-state")
            .append_pair("nonce", "test-nonce");
        let callback = browser
            .sign_in(authorize.as_str(), login, Some(&redirect_uri))
            .await
            .redirected_to();
        let code = reqwest::Url::parse(&callback)
            .unwrap_or_else(|e| panic!("bad callback URL {callback}: {e}"))
            .query_pairs()
            .find(|(name, _)| name == "code")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_else(|| panic!("no code in {callback}"));
        let response = browser
            .client
            .post(format!("{}/token", self.issuer))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", "test-spa"),
                ("code", &code),
                ("redirect_uri", &redirect_uri),
                ("code_verifier", &verifier),
                ("resource", resource),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("token request failed: {e}"));
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("token response is not JSON: {e}"));
        body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token in {body}"))
            .to_owned()
    }

    /// Revokes a token at the provider (RFC 7009).
    pub async fn revoke(&self, token: &str) {
        let status = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_else(|e| panic!("cannot build an HTTP client: {e}"))
            .post(format!("{}/token/revocation", self.issuer))
            .form(&[
                ("token", token),
                ("client_id", "test-spa"),
                ("token_type_hint", "access_token"),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("revocation request failed: {e}"))
            .status();
        assert!(status.is_success(), "revocation answered {status}");
    }

    /// Points `settings` at this provider: audience, client, claims (`org_id`,
    /// `roles` with values `admin`/`auditor`), no clock leeway, immediate JWKS
    /// refreshes and WebSocket re-checks every second.
    pub fn configure(&self, settings: &mut Settings) {
        let oidc = &mut settings.oidc;
        oidc.oidc_issuer = Some(self.issuer.clone());
        oidc.oidc_audience = vec![API_AUDIENCE.into()];
        oidc.oidc_client_id = Some(CLIENT_ID.into());
        oidc.oidc_client_secret = Some(CLIENT_SECRET.into());
        oidc.oidc_scopes = LOGIN_SCOPES.into();
        oidc.oidc_leeway_secs = 0;
        oidc.oidc_jwks_min_refresh_secs = 0;
        oidc.auth_recheck_secs = 1;
    }

    async fn wait_until_ready(&self) {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap_or_else(|e| panic!("cannot build an HTTP client: {e}"));
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        for _ in 0..200 {
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the OpenID Provider did not answer {url} within 20 s; its log:\n{}",
            std::fs::read_to_string(&self.log_file).unwrap_or_default()
        );
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
    }
}

fn spawn(port: u16, keys_file: &Path, accounts_file: &Path, log_file: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", log_file.display()));
    let log_err = log
        .try_clone()
        .unwrap_or_else(|e| panic!("cannot clone a file handle: {e}"));
    Command::new("node")
        .arg("provider.mjs")
        .current_dir(provider_dir())
        .env("OIDC_PORT", port.to_string())
        .env("OIDC_KEYS", keys_file)
        .env("OIDC_ACCOUNTS_FILE", accounts_file)
        .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
        .env("OIDC_SHORT_TTL", SHORT_TTL_SECS.to_string())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node (install Node.js 20): {e}"))
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, value.to_string())
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// The server under test, signed up with `provider`: browser login on its own
/// (pre-chosen) port as public URL, plus whatever `configure` changes.
pub async fn spawn_app_with_oidc(
    backend: Backend,
    provider: &OidcProvider,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let port = free_port();
    spawn_app_with(backend, |settings| {
        settings.listen = SocketAddr::from(([127, 0, 0, 1], port));
        provider.configure(settings);
        settings.oidc.public_url = Some(format!("http://127.0.0.1:{port}"));
        configure(settings);
    })
    .await
}
