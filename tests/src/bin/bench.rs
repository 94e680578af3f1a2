//! The benchmark harness (issue 7): every scenario against a release build of the
//! real service on PostgreSQL (and SQLite for `embedded`), each beside its
//! baselines measured in the same run: raw PostgreSQL through sqlx (COPY, the
//! service's SQL, a plain batched DELETE) and PostGraphile v4 over the same
//! database.
//!
//! `cargo run --release -p auditlog-tests --bin bench -- [--scale tiny|small|default]
//! [--only ingest,single,documents,page,deep,live,idle,purge,embedded,integrity,export,streams,reads] [--no-postgraphile] [--out FILE]`
//!
//! Prints the results table and the goals' statuses, and writes them with the
//! machine description to `--out` (default: `BENCHMARKS.md` at the workspace
//! root). Anything in the existing file from the line `<!-- notes -->` on is kept,
//! so hand-written analysis survives a re-run. The scenario code lives in
//! `tests/src/bench/` (see its `mod.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../bench/mod.rs"]
mod bench;

use std::path::PathBuf;
use std::time::Instant;

/// mimalloc instead of the system allocator: GraphQL responses are built from
/// many small allocations, and glibc's malloc showed up as a third of the
/// service's CPU time in profiles of the page benchmark.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use auditlog_tests::{Backend, spawn_app_with};
use bench::report::{Goal, Row, goals_table, table};
use bench::{Bench, Scale};

const SCENARIOS: [&str; 13] = [
    "ingest",
    "single",
    "documents",
    "page",
    "deep",
    "live",
    "idle",
    "purge",
    "embedded",
    "integrity",
    "export",
    "streams",
    "reads",
];
const NOTES_MARKER: &str = "<!-- notes -->";

struct Options {
    scale: Scale,
    only: Vec<String>,
    peer: bool,
    out: PathBuf,
}

fn options() -> Options {
    let mut options = Options {
        scale: Scale::named("default").expect("default scale"),
        only: SCENARIOS.iter().map(|s| (*s).to_owned()).collect(),
        peer: true,
        out: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../BENCHMARKS.md"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--scale" => {
                let name = value();
                options.scale = Scale::named(&name)
                    .unwrap_or_else(|| panic!("unknown scale {name}: tiny, small or default"));
            }
            "--only" => {
                options.only = value().split(',').map(str::to_owned).collect();
                for name in &options.only {
                    assert!(
                        SCENARIOS.contains(&name.as_str()),
                        "unknown scenario {name}: {SCENARIOS:?}"
                    );
                }
            }
            "--no-postgraphile" => options.peer = false,
            "--out" => options.out = PathBuf::from(value()),
            other => panic!(
                "unknown argument {other}; usage: bench [--scale tiny|small|default] \
                 [--only {}] [--no-postgraphile] [--out FILE]",
                SCENARIOS.join(",")
            ),
        }
    }
    options
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some(bench::idle::SERVE_FLAG) => {
            let url = args.next().expect("a database URL after the flag");
            bench::idle::serve(&url).await;
            return;
        }
        Some(bench::streams::WORKER_FLAG) => {
            let url = args.next().expect("a database URL after the flag");
            bench::streams::serve_worker(&url).await;
            return;
        }
        _ => {}
    }
    let options = options();
    let wants = |name: &str| options.only.iter().any(|s| s == name);
    let started = Instant::now();
    let (mut rows, mut goals): (Vec<Row>, Vec<Goal>) = (Vec::new(), Vec::new());
    eprintln!("bench: scale {}", options.scale.name);

    let app = spawn_app_with(Backend::Postgres, |settings| {
        settings.db_max_connections = 16;
        // The streams scenario's receiver listens on 127.0.0.1.
        settings.streams.stream_allow_private_targets = true;
    })
    .await;
    let needs_peer = options.peer && (wants("ingest") || wants("page"));
    let bench = Bench::new(options.scale.clone(), app, needs_peer).await;
    let machine = machine(&bench).await;

    if wants("ingest") {
        eprintln!("bench: ingest");
        bench::ingest::batched(&bench, &mut rows, &mut goals).await;
    }
    if wants("single") {
        eprintln!("bench: single-event ingest");
        bench::ingest::single(&bench, &mut rows, &mut goals).await;
    }
    if wants("documents") {
        eprintln!("bench: document cache");
        bench::documents::documents(&bench, &mut rows, &mut goals).await;
    }
    if wants("page") || wants("deep") {
        eprintln!("bench: seeding the page scenarios");
        let big = bench::pages::seed(&bench).await;
        if wants("page") {
            eprintln!("bench: filtered first page");
            bench::pages::filtered(&bench, &big, &mut rows, &mut goals).await;
        }
        if wants("deep") {
            eprintln!("bench: deep page");
            bench::pages::deep(&bench, &big, &mut rows, &mut goals).await;
        }
    }
    if wants("live") {
        eprintln!("bench: live");
        bench::live::live(&bench, &mut rows, &mut goals).await;
    }
    if wants("idle") {
        eprintln!("bench: live at scale (idle subscribers)");
        bench::idle::idle(&bench, &mut rows, &mut goals).await;
    }
    if wants("purge") {
        eprintln!("bench: purge");
        bench::purge::purge(&options.scale, &mut rows, &mut goals).await;
    }
    if wants("embedded") {
        eprintln!("bench: embedded");
        bench::embedded::embedded(&options.scale, &mut rows, &mut goals).await;
    }
    if wants("integrity") {
        eprintln!("bench: integrity");
        bench::integrity::integrity(&bench, &mut rows, &mut goals).await;
    }
    if wants("streams") {
        eprintln!("bench: streams");
        bench::streams::streams(&bench, &mut rows, &mut goals).await;
    }
    if wants("export") {
        eprintln!("bench: export");
        bench::export::export(&options.scale, &mut rows, &mut goals).await;
    }
    let mut sections = String::new();
    if wants("reads") {
        eprintln!("bench: reads at scale");
        sections.push_str(&bench::reads::reads_at_scale(&bench, &mut goals).await);
    }
    drop(bench);

    let elapsed = started.elapsed().as_secs_f64();
    let results = table(&rows);
    let statuses = goals_table(&goals);
    println!(
        "{results}\n{statuses}\n{sections}\nscale {} finished in {elapsed:.0} s",
        options.scale.name
    );
    write_report(&options, &machine, &results, &statuses, &sections, elapsed);
}

/// The machine and PostgreSQL description, as Markdown.
async fn machine(bench: &Bench) -> String {
    use sea_orm::sqlx;
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0 / 1024.0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_owned();
    let version: String = sqlx::query_scalar("SELECT version()")
        .fetch_one(&bench.pool)
        .await
        .unwrap_or_default();
    let mut settings = Vec::new();
    for name in [
        "shared_buffers",
        "work_mem",
        "effective_cache_size",
        "max_wal_size",
        "fsync",
        "synchronous_commit",
        "full_page_writes",
        "wal_level",
        "max_connections",
        "autovacuum",
    ] {
        let value: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SHOW {name}")))
            .fetch_one(&bench.pool)
            .await
            .unwrap_or_else(|_| "?".into());
        settings.push(format!("`{name}={value}`"));
    }
    format!(
        "- CPU: {cores} cores ({cpu})\n- memory: {memory_gib:.1} GiB\n- PostgreSQL: {version}\n- settings: {}\n",
        settings.join(", ")
    )
}

fn write_report(
    options: &Options,
    machine: &str,
    results: &str,
    statuses: &str,
    sections: &str,
    elapsed: f64,
) {
    let kept = std::fs::read_to_string(&options.out)
        .ok()
        .and_then(|text| text.find(NOTES_MARKER).map(|at| text[at..].to_owned()))
        .unwrap_or_else(|| format!("{NOTES_MARKER}\n"));
    let text = format!(
        "# Benchmarks\n\n\
         Generated by `cargo run --release -p auditlog-tests --bin bench -- --scale {scale}` \
         on {date} ({elapsed:.0} s; scenarios: {only}). Medians over {runs} runs per system; \
         p50/p99 are the medians over runs of each run's request-latency percentiles; ratios \
         compare systems measured in the same run. The load generator, the service, \
         PostgreSQL and PostGraphile share this machine, which is shared with other work \
         and noisy (±25 % between runs is normal): the ratios are the goals, absolute \
         numbers are informative.\n\n\
         ## Machine\n\n{machine}\n\
         The throwaway cluster of the test harness runs with `fsync=off`, \
         `synchronous_commit=off` and `full_page_writes=off`: commits cost no disk flush, \
         so absolute ingest rates are higher than on a durable server, for the service and \
         the baselines alike.\n\n\
         ## Results\n\n{results}\n## Goals\n\n{statuses}\n{sections}{kept}",
        scale = options.scale.name,
        date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        only = options.only.join(", "),
        runs = options.scale.runs,
    );
    match std::fs::write(&options.out, text) {
        Ok(()) => eprintln!("bench: wrote {}", options.out.display()),
        Err(e) => eprintln!("bench: cannot write {}: {e}", options.out.display()),
    }
}
