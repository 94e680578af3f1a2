//! A bounded fuzz pass over hostile documents (issue 12): a few hundred
//! documents made of nested values, selection sets, fragment spreads (defined
//! or not, fanned out) and directives, from a fixed-seed PRNG. Whatever they
//! are, the process never dies, every one is answered within 2 s (a bound on
//! the answer, not a performance goal) and `/healthz` answers throughout.

use std::time::Instant;

use auditlog_tests::{Backend, backend_tests};
use serde_json::Value;

use super::{ANSWER_WITHIN, assert_alive, fan_out, nested};
use crate::helpers::app_with_tenant;

const DOCUMENTS: usize = 300;

/// xorshift64*: deterministic, so a failure names a reproducible document.
struct Prng(u64);

impl Prng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

/// A value nested up to `levels` deep, of mixed lists and objects.
fn value(prng: &mut Prng, levels: usize) -> String {
    let mut open = String::new();
    let mut close = String::new();
    for _ in 0..levels {
        if prng.below(2) == 0 {
            open.push('[');
            close.insert(0, ']');
        } else {
            open.push_str("{a:");
            close.insert(0, '}');
        }
    }
    format!("{open}1{close}")
}

fn directives(prng: &mut Prng) -> String {
    let names = [
        "@x",
        "@include(if: true)",
        "@skip(if: false)",
        "@deprecated",
    ];
    (0..prng.below(12))
        .map(|_| names[prng.below(names.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

fn document(prng: &mut Prng) -> String {
    let depths = [1, 10, 63, 65, 200, 2_000, 20_000];
    let depth = depths[prng.below(depths.len())];
    match prng.below(6) {
        0 => format!("{{ auditEvent(id: {}) {{ id }} }}", value(prng, depth)),
        1 => nested("{ a ", "", "}", depth),
        2 => fan_out(prng.below(40), prng.below(2) == 0),
        3 => {
            let fields: String = (0..prng.below(200))
                .map(|i| format!("a{i}: __typename {} ", directives(prng)))
                .collect();
            format!("query Q {} {{ {fields} }}", directives(prng))
        }
        4 => {
            let spreads: String = (0..prng.below(50))
                .map(|_| format!("...F{} {} ", prng.below(5), directives(prng)))
                .collect();
            let fragments: String = (0..prng.below(5))
                .map(|i| {
                    format!(
                        "fragment F{i} on Query {} {{ __typename ...F{} }} ",
                        directives(prng),
                        prng.below(5)
                    )
                })
                .collect();
            format!(
                "{{ {spreads} ... on Query {} {{ __typename }} }} {fragments}",
                directives(prng)
            )
        }
        _ => {
            // Any of the above, cut at a random place (unbalanced brackets, open strings).
            let whole = format!(
                "{{ a(s: \"\"\"{}\"\"\" t: {}) }}",
                "[".repeat(prng.below(100)),
                value(prng, depth)
            );
            let cut = prng.below(whole.len().max(1));
            whole.chars().take(cut).collect()
        }
    }
}

async fn hostile_documents_never_stall_or_kill_the_server(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let mut prng = Prng(0x5eed_1234_abcd_0012);
    let client = app.api.clone().with_timeout(ANSWER_WITHIN);
    for n in 0..DOCUMENTS {
        let document = document(&mut prng);
        let started = Instant::now();
        let answer = client
            .try_graphql(&document, Value::Null, Some(&tenant.admin_key))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "document {n} not answered within {ANSWER_WITHIN:?} ({e}): {}",
                    document.chars().take(200).collect::<String>()
                )
            });
        assert!(
            answer.status.is_success() || answer.status.is_client_error(),
            "document {n}: HTTP {}",
            answer.status
        );
        let body = answer.body;
        assert!(
            started.elapsed() < ANSWER_WITHIN,
            "document {n} took {:?}",
            started.elapsed()
        );
        if let Some(errors) = body["errors"].as_array() {
            for error in errors {
                assert!(
                    error["extensions"]["code"].is_string()
                        && error["extensions"]["code"] != "INTERNAL_SERVER_ERROR",
                    "document {n}: {error}"
                );
            }
        }
        if n % 20 == 0 {
            assert_alive(&app).await;
        }
    }
    assert_alive(&app).await;
}

backend_tests!(hostile_documents_never_stall_or_kill_the_server);
