//! schemathesis (from PyPI) for the GraphQL fuzz test: installed on first use
//! into a virtual environment under the target directory
//! (`target/schemathesis-venv`), pinned, with everything it needs, by
//! `tests/fuzz/requirements.txt`. A file lock keeps parallel test processes from
//! installing at once; a copy of the requirements inside the environment marks
//! a finished install, so a changed pin reinstalls. Never skipped: without
//! Python 3 and its `venv` module the test fails and says what to install.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `tests/fuzz`: the requirements and the schemathesis hooks.
pub fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The `schemathesis` executable, installed if needed.
pub fn schemathesis() -> PathBuf {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED.get_or_init(install).clone()
}

fn install() -> PathBuf {
    let target = target_dir();
    let venv = target.join("schemathesis-venv");
    let executable = venv.join("bin").join("schemathesis");
    let requirements_path = fuzz_dir().join("requirements.txt");
    let requirements = fs::read_to_string(&requirements_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", requirements_path.display()));
    let marker = venv.join("installed-requirements.txt");

    fs::create_dir_all(&target)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", target.display()));
    let lock_path = target.join("schemathesis-venv.lock");
    let lock = File::create(&lock_path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));

    let installed = fs::read_to_string(&marker).is_ok_and(|done| done == requirements);
    if !(installed && executable.exists()) {
        eprintln!("installing schemathesis into {}", venv.display());
        if venv.exists() {
            fs::remove_dir_all(&venv)
                .unwrap_or_else(|e| panic!("cannot remove {}: {e}", venv.display()));
        }
        run(
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
            "python3 -m venv (install Python 3 with its venv module: apt-get install python3-venv)",
        );
        run(
            Command::new(venv.join("bin").join("python"))
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-input",
                    "-r",
                ])
                .arg(&requirements_path),
            "pip install -r tests/fuzz/requirements.txt",
        );
        fs::write(&marker, &requirements)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", marker.display()));
    }
    // Dropping the file releases the lock.
    drop(lock);
    executable
}

fn run(command: &mut Command, what: &str) {
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(status.success(), "{what} failed: {status}");
}

/// The Cargo target directory: the test executable lives in `<target>/<profile>/deps/`.
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .filter(|dir| dir.join("CACHEDIR.TAG").exists() || dir.ends_with("target"))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}
