//! `live`: subscribers spread over 10 tenants while events are recorded over
//! HTTP at a steady rate (batches of 10, one tenant per batch, round robin), the
//! approach of `bench-live`. Latency is from the batch's HTTP acknowledgement to
//! each subscriber receiving each event (0 when it arrives first); every
//! subscriber must receive each event of its tenant exactly once. The same
//! subscriptions serve every run. There is no baseline: the goals are absolute.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use auditlog_tests::ws::WsClient;
use serde_json::json;

use super::ingest::record_bodies;
use super::report::{Goal, Row};
use super::stats::{Run, Summary};
use super::{Bench, Tenant};

const BATCH: usize = 10;
const TENANTS: usize = 10;
/// How long after the last acknowledgement a subscriber may still receive.
const GRACE: Duration = Duration::from_secs(5);

struct Subscriber {
    tenant: usize,
    ws: WsClient,
}

pub(crate) async fn live(bench: &Bench, rows: &mut Vec<Row>, goals: &mut Vec<Goal>) {
    let scale = &bench.scale;
    let tenants: Arc<Vec<Tenant>> = Arc::new(bench.tenants("live", TENANTS, "ENTERPRISE").await);
    let mut subscribers = Vec::with_capacity(scale.live_subscribers);
    for index in 0..scale.live_subscribers {
        let tenant = index % TENANTS;
        let mut ws = WsClient::connect_and_init(&bench.app.ws_url(), &tenants[tenant].key).await;
        ws.subscribe(
            "bench",
            "subscription { auditEventRecorded { sequence } }",
            json!({}),
        )
        .await;
        ws.send(json!({ "type": "ping" })).await;
        assert_eq!(ws.next_json().await["type"], "pong", "subscriber {index}");
        subscribers.push(Subscriber { tenant, ws });
    }
    let batches =
        (scale.live_rate * scale.live_seconds as usize / BATCH).max(TENANTS) / TENANTS * TENANTS;
    let bodies = Arc::new(record_bodies(batches, BATCH, 9_000_000));
    let (mut runs, mut lost, mut duplicated) = (Vec::new(), 0usize, 0usize);
    for _ in 0..scale.runs {
        let per_tenant = batches / TENANTS * BATCH;
        let deadline = Arc::new(tokio::sync::OnceCell::<Instant>::new());
        let mut receivers = Vec::with_capacity(subscribers.len());
        for mut subscriber in subscribers.drain(..) {
            let deadline = deadline.clone();
            receivers.push(tokio::spawn(async move {
                let mut arrivals = Vec::with_capacity(per_tenant);
                while arrivals.len() < per_tenant {
                    let wait = match deadline.get() {
                        Some(at) => at.saturating_duration_since(Instant::now()),
                        None => Duration::from_secs(25),
                    };
                    match tokio::time::timeout(wait, subscriber.ws.next_event("bench")).await {
                        Ok(event) => arrivals
                            .push((event["sequence"].as_i64().unwrap_or(-1), Instant::now())),
                        Err(_) if deadline.get().is_some() => break,
                        Err(_) => {}
                    }
                }
                (subscriber, arrivals)
            }));
        }
        let mut acknowledged: HashMap<(usize, i64), Instant> = HashMap::new();
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(
            BATCH as f64 / scale.live_rate as f64,
        ));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut in_flight = tokio::task::JoinSet::new();
        let started = Instant::now();
        for n in 0..batches {
            ticks.tick().await;
            let (app, bodies, tenants) = (bench.app.clone(), bodies.clone(), tenants.clone());
            in_flight.spawn(async move {
                let data =
                    super::service_graphql(&app, &tenants[n % TENANTS].key, bodies[n].clone())
                        .await;
                let at = Instant::now();
                let sequences: Vec<i64> = data["recordAuditEvents"]["events"]
                    .as_array()
                    .map(|events| {
                        events
                            .iter()
                            .filter_map(|e| e["sequence"].as_i64())
                            .collect()
                    })
                    .unwrap_or_default();
                (n % TENANTS, sequences, at)
            });
        }
        while let Some(done) = in_flight.join_next().await {
            let (tenant, sequences, at) = done.expect("a recording task");
            for sequence in sequences {
                acknowledged.insert((tenant, sequence), at);
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let _ = deadline.set(Instant::now() + GRACE);
        let mut latencies = Vec::new();
        for receiver in receivers {
            let (subscriber, arrivals) = receiver.await.expect("a subscriber task");
            let unique: HashSet<i64> = arrivals.iter().map(|(s, _)| *s).collect();
            duplicated += arrivals.len() - unique.len();
            lost += per_tenant.saturating_sub(unique.len());
            for (sequence, arrived) in arrivals {
                if let Some(ack) = acknowledged.get(&(subscriber.tenant, sequence)) {
                    latencies.push(arrived.saturating_duration_since(*ack).as_secs_f64() * 1e3);
                }
            }
            subscribers.push(subscriber);
        }
        runs.push(Run {
            seconds,
            items: (batches * BATCH) as f64,
            latencies_ms: latencies,
        });
    }
    let summary = Summary::of(&runs);
    rows.push(Row {
        scenario: "live",
        system: format!(
            "{} subscribers / {TENANTS} tenants, {} events/s target",
            scale.live_subscribers, scale.live_rate
        ),
        unit: "events/s recorded",
        ratio: format!("lost {lost}, duplicated {duplicated}"),
        summary: summary.clone(),
    });
    goals.push(Goal::check(
        "live",
        "delivery p50 < 2 ms",
        summary.p50_ms,
        2.0,
        false,
        format!("{:.2} ms", summary.p50_ms),
    ));
    goals.push(Goal::check(
        "live",
        "delivery p99 < 20 ms",
        summary.p99_ms,
        20.0,
        false,
        format!("{:.2} ms", summary.p99_ms),
    ));
    goals.push(Goal {
        scenario: "live",
        goal: "zero lost or duplicated".into(),
        measured: format!("lost {lost}, duplicated {duplicated}"),
        status: if lost == 0 && duplicated == 0 {
            "met".into()
        } else {
            "missed".into()
        },
    });
    for subscriber in subscribers {
        subscriber.ws.close().await;
    }
}
