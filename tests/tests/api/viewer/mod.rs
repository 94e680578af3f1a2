//! The built-in viewer (issue 18): how the service serves it ([`serving`],
//! plain HTTP), and the app itself in a real browser (Debian's Chromium,
//! driven by Playwright from `tests/browser`) against the real service:
//! people signed in through the real OpenID Provider ([`sign_in`]), and a
//! SaaS page on another origin embedding it with a viewer token, live
//! events across a dropped connection, an unreachable service and hostile
//! event data ([`embedded`]), and development mode's pasted API key
//! ([`development`]), and the details panel's "Verify" of an event's proof
//! and signed head, intact, tampered with and not yet covered ([`verified`]).
//!
//! Each browser test seeds its tenants through the API here, then runs one
//! `node --test` file of `tests/browser` with the URLs, keys and what the
//! seed must show in environment variables; the file's tests are the
//! assertions, and their counts are checked here.

mod development;
mod embedded;
mod serving;
mod sign_in;
mod verified;

use auditlog_tests::node::{browser_dir, ensure_browser_modules};

use crate::frontend_clients::{NodeReport, run_node_in};

/// Runs `node --test <file>` in tests/browser with `env`.
async fn run_browser(file: &str, env: &[(&str, String)]) -> NodeReport {
    ensure_browser_modules();
    run_node_in(&browser_dir(), file, env).await
}
