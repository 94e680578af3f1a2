//! The Node.js tools of `tests/node` (the graphql-ws reference client, the
//! graphql-http audit suite) and `tests/browser` (the viewer's Playwright
//! tests): their locked npm packages are installed with `npm ci` on first
//! use, once per folder and test process, when any dependency that
//! `package.json` names is missing (so adding one reinstalls).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `tests/node`.
pub fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// `tests/browser`.
pub fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Runs `npm ci` in `tests/node` unless every dependency is installed.
pub fn ensure_node_modules() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| install(&node_dir()));
}

/// Runs `npm ci` in `tests/browser` unless every dependency is installed.
pub fn ensure_browser_modules() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| install(&browser_dir()));
}

fn install(dir: &Path) {
    if missing_dependencies(dir).is_empty() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("cannot run npm (install Node.js 20 and npm): {e}"));
    assert!(status.success(), "npm ci failed in {}", dir.display());
    let missing = missing_dependencies(dir);
    assert!(
        missing.is_empty(),
        "npm ci did not install {missing:?} in {}",
        dir.display()
    );
}

/// The dependencies of `dir/package.json` without a `node_modules/<name>/package.json`.
fn missing_dependencies(dir: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(dir.join("package.json"))
        .unwrap_or_else(|e| panic!("cannot read {}/package.json: {e}", dir.display()));
    let manifest: serde_json::Value = serde_json::from_str(&manifest)
        .unwrap_or_else(|e| panic!("{}/package.json is not JSON: {e}", dir.display()));
    manifest["dependencies"]
        .as_object()
        .map(|dependencies| {
            dependencies
                .keys()
                .filter(|name| {
                    !dir.join("node_modules")
                        .join(name.as_str())
                        .join("package.json")
                        .exists()
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}
