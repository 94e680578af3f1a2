//! Smoke test of the benchmark harness (`tests/src/bin/bench.rs`): runs every
//! scenario at the tiniest sizes, so the benchmark code cannot rot, and checks
//! that it exits successfully and prints the results and goals tables. It asserts
//! no timing: CI machines are too noisy, and the numbers belong in `BENCHMARKS.md`.

use std::process::Command;

#[test]
fn the_benchmark_runs_at_tiny_sizes_and_prints_its_tables() {
    let out = std::env::temp_dir().join(format!("auditlog-bench-{}.md", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["--scale", "tiny", "--out"])
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the bench binary: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "bench --scale tiny failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    for expected in [
        "| scenario | system | median rate",
        "| ingest | auditlog recordAuditEvents",
        "| filtered first page |",
        "| deep page |",
        "| live |",
        "| live at scale |",
        "| purge |",
        "| embedded |",
        "| integrity | inclusion proof",
        "| integrity | consistency proof (GraphQL)",
        "| export | GET /export.ndjson",
        "| export | GET /export.csv",
        "| streams | one stream, backlog",
        "| streams | the receiver alone",
        "## Reads at scale",
        "| search, rare term",
        "| facets, no filter |",
        "| facets, filter actions |",
        "| reads at scale (SQLite) |",
        "| scenario | goal | measured | status |",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    let written = std::fs::read_to_string(&out)
        .unwrap_or_else(|e| panic!("the report {} was not written: {e}", out.display()));
    assert!(written.contains("## Machine") && written.contains("## Goals"));
    let _ = std::fs::remove_file(out);
}
