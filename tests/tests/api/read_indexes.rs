//! `search` and `ipAddress` served by indexes (issue 15): the plans
//! PostgreSQL chooses for the statements the service really runs, and a
//! randomized comparison of every answer with the reference model on both
//! backends, large enough that a search page goes past its ordered window
//! into the search index (`store::events::search`).

use auditlog_tests::database::{connect, plant, scoped, tenant_uuid};
use auditlog_tests::{Backend, backend_tests, spawn_app};
use chrono::Duration;
use entity::domain::{ActorType, IpAddress, Outcome};
use entity::store::dialect;
use entity::store::events::{
    CANDIDATE_LIMIT, Columns, EventFilter, FIRST_WINDOW, INDEX_AFTER, Page, PageDirection,
    PageScan, SHORT_TERM_SCAN, page_statement, window_end_statement,
};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::filter_model::matches;
use crate::helpers::{app_with_tenant, base_time, ids, rfc3339};

/// Events the plan test seeds: more than [`SHORT_TERM_SCAN`], so a short
/// absent term takes more than one page to settle.
const SEEDED: i64 = 60_000;

/// Seeds `count` events for `tenant` by one `INSERT ... SELECT`: twenty
/// names, 500 addresses, and "Zebra" in one target name of 4,000.
fn seed_sql(tenant: Uuid, count: i64) -> String {
    format!(
        r#"
INSERT INTO audit_events (tenant_id, id, sequence, action, actor_type, actor_id, actor_name,
  actor_email, target_type, target_id, target_name, outcome, ip_address, occurred_at, received_at)
SELECT '{tenant}', gen_random_uuid(), 1000 + s,
  (ARRAY['user.login','entry.create','entry.update','invoice.pay'])[1 + s % 4], 'user', 'u' || s % 300,
  (ARRAY['Alice','Bob','Carol','Dave','Eve','Frank','Grace','Heidi','Ivan','Judy'])[1 + s % 10] || ' Smith',
  'user' || s % 300 || '@example.com', 'entry', 't' || s,
  CASE WHEN s % 4000 = 7 THEN 'Zebra report ' || s ELSE 'Document ' || md5(s::text) END,
  'success', ('10.0.' || s % 2 || '.' || s % 250)::inet,
  now() - interval '1 day' + s * interval '1 second', now()
FROM generate_series(1, {count}) s;
UPDATE tenants SET event_counter = 1000 + {count} WHERE id = '{tenant}';
ANALYZE audit_events;
"#
    )
}

async fn explain(db: &impl ConnectionTrait, statement: Statement) -> String {
    let sql = format!("EXPLAIN {}", statement.sql);
    let explained = match statement.values {
        Some(values) => Statement::from_sql_and_values(DbBackend::Postgres, sql, values),
        None => Statement::from_string(DbBackend::Postgres, sql),
    };
    let rows = db
        .query_all_raw(explained)
        .await
        .unwrap_or_else(|e| panic!("EXPLAIN failed: {e}"));
    rows.iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn filter(build: impl FnOnce(&mut EventFilter)) -> EventFilter {
    let mut filter = EventFilter::default();
    build(&mut filter);
    filter
}

/// The first page (50 rows and one to tell whether more follow), newest first.
fn first_page() -> Page {
    Page {
        direction: PageDirection::Older,
        start: None,
        stop: None,
        limit: 51,
        columns: Columns::ALL,
    }
}

fn ip(text: &str) -> Option<IpAddress> {
    IpAddress::parse(text).ok()
}

/// The service's statements for `search` and `ipAddress` never scan the
/// table, and the search function's own query reads the trigram index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_plans_for_search_and_ip_use_indexes() {
    let app = spawn_app(Backend::Postgres).await;
    let tenant = app.create_tenant("plans", "ENTERPRISE").await;
    let other = app.create_tenant("others", "ENTERPRISE").await;
    let (tenant_id, other_id) = (tenant_uuid(&tenant.id), tenant_uuid(&other.id));
    let superuser = connect(app.superuser_database_url()).await;
    for (id, count) in [(tenant_id, SEEDED), (other_id, SEEDED / 4)] {
        let counter = u64::try_from(1000 + count).unwrap();
        auditlog_tests::database::store_tree_frontier(&superuser, id, counter).await;
        superuser
            .execute_unprepared(&seed_sql(id, count))
            .await
            .unwrap();
    }

    assert!(SEEDED as u64 > SHORT_TERM_SCAN);
    // The seeded events lie between 24 and about 7 hours ago.
    let hour_ago = chrono::Utc::now() - Duration::hours(1);
    let db = connect(app.database_url()).await;
    let txn = scoped(&db, tenant_id).await;
    // What the index lists for each term, as a page asks for it.
    let listed = |term: &'static str| {
        let statement =
            dialect::search_candidates(DbBackend::Postgres, tenant_id, term, CANDIDATE_LIMIT + 1);
        let txn = &txn;
        async move {
            dialect::read_search_candidates(txn, statement)
                .await
                .unwrap()
        }
    };
    let zebra = listed("zebra").await;
    let absent = listed("no-such-text").await;
    assert_eq!(zebra.len() as i64, SEEDED / 4000);
    assert!(absent.is_empty());
    let cases: Vec<(&str, EventFilter, PageScan, &str)> = vec![
        (
            "common term, window",
            filter(|f| f.search = Some("smith".into())),
            PageScan::Window { rows: INDEX_AFTER },
            "audit_events_tenant_occurred_idx",
        ),
        (
            "rare term, window",
            filter(|f| f.search = Some("zebra".into())),
            PageScan::Window { rows: INDEX_AFTER },
            "audit_events_tenant_occurred_idx",
        ),
        (
            "rare term, indexed",
            filter(|f| f.search = Some("zebra".into())),
            PageScan::Indexed(&zebra),
            "audit_events_pkey",
        ),
        (
            "absent term, indexed",
            filter(|f| f.search = Some("no-such-text".into())),
            PageScan::Indexed(&absent),
            "audit_events_pkey",
        ),
        (
            "targetId alone",
            filter(|f| f.target_id = Some("t-absent".into())),
            PageScan::Ordered,
            "audit_events_tenant_target_id_idx",
        ),
        (
            "actorType alone",
            filter(|f| f.actor_type = Some(ActorType::System)),
            PageScan::Ordered,
            "audit_events_tenant_actor_type_idx",
        ),
        (
            "outcome alone",
            filter(|f| f.outcome = Some(Outcome::Failure)),
            PageScan::Ordered,
            "audit_events_tenant_outcome_idx",
        ),
        (
            "ipAddress",
            filter(|f| f.ip_address = ip("10.0.1.17")),
            PageScan::Ordered,
            "audit_events_tenant_ip_idx",
        ),
        (
            "ipAddress in a time window",
            filter(|f| {
                f.ip_address = ip("10.0.1.17");
                f.occurred_after = Some(hour_ago - Duration::hours(20));
                f.occurred_before = Some(hour_ago - Duration::hours(14));
            }),
            PageScan::Ordered,
            "audit_events_tenant_ip_idx",
        ),
        (
            "ipAddress and an action",
            filter(|f| {
                f.ip_address = ip("10.0.1.17");
                f.actions = Some(vec!["entry.update".into()]);
            }),
            PageScan::Ordered,
            "Index Scan",
        ),
    ];
    for (name, filter, scan, expected) in cases {
        let statement =
            page_statement(DbBackend::Postgres, tenant_id, &filter, &first_page(), scan);
        let plan = explain(&txn, statement).await;
        assert!(!plan.contains("Seq Scan on audit_events"), "{name}: {plan}");
        assert!(
            plan.contains(expected),
            "{name} should use {expected}: {plan}"
        );
        let end = window_end_statement(
            DbBackend::Postgres,
            tenant_id,
            &filter,
            &first_page(),
            INDEX_AFTER,
        );
        let plan = explain(&txn, end).await;
        assert!(
            !plan.contains("Seq Scan on audit_events"),
            "{name}, window end: {plan}"
        );
    }
    drop(txn);

    // The function's query, planned as its owner (whose policy lets the
    // trigram index serve the LIKE that row-level security keeps from ours).
    let owner = connect(app.owner_database_url()).await;
    let txn = scoped(&owner, tenant_id).await;
    for pattern in ["%zebra%", "%no-such-text%"] {
        let sql = format!(
            "SELECT id FROM audit_events WHERE tenant_id = $1 AND {} LIKE $2 LIMIT {}",
            migration::SEARCH_TEXT,
            CANDIDATE_LIMIT + 1
        );
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [tenant_id.into(), pattern.into()],
        );
        let plan = explain(&txn, statement).await;
        assert!(
            plan.contains("audit_events_tenant_search_idx"),
            "{pattern}: {plan}"
        );
    }
    drop(txn);

    // Through the API: a rare term past the window.
    let page = app
        .page(
            &tenant.admin_key,
            json!({ "first": 50, "filter": { "search": "ZEBRA" } }),
        )
        .await;
    assert_eq!(page.nodes.len(), (SEEDED / 4000) as usize);
    // A short absent term, and a term in a quarter of the log (`invoice.pay`)
    // but in none of the events the prefix selects: no index settles either,
    // so each page checks a bounded number of events in order and, when more
    // remain, says so with a cursor where it stopped; following the cursors
    // ends, with no event and no cursor repeated.
    for (filter, checked_per_page) in [
        (json!({ "search": "~~" }), SHORT_TERM_SCAN),
        (
            json!({ "search": "invoice", "actionPrefix": "user." }),
            FIRST_WINDOW,
        ),
    ] {
        let pages = follow(&app, &tenant.admin_key, &filter).await;
        let selected = match filter.get("actionPrefix") {
            Some(_) => SEEDED / 4,
            None => SEEDED,
        } as u64;
        assert_eq!(
            pages.len() as u64,
            selected / checked_per_page + 1,
            "{filter}"
        );
        assert!(pages.iter().all(|page| page.nodes.is_empty()), "{filter}");
        let cursors: std::collections::HashSet<_> = pages
            .iter()
            .filter_map(|page| page.end_cursor.clone())
            .collect();
        assert_eq!(cursors.len(), pages.len() - 1, "{filter}");
    }
    let narrowed = json!({ "first": 50, "filter": {
        "search": "~~", "occurredAfter": rfc3339(hour_ago - Duration::hours(1))
    } });
    let page = app.page(&tenant.admin_key, narrowed).await;
    assert!(page.nodes.is_empty() && !page.has_next_page);

    // Facets with `search`, planned like its pages: a common term counts its
    // newest 5,000 matches; a rare one is counted exactly from the index's
    // candidates; a term common in the log but absent from the events the
    // prefix selects counts what the window held (nothing) and says since when.
    let facets = |filter: Value| {
        let app = &app;
        let key = tenant.admin_key.clone();
        async move {
            let response = app
                .graphql(
                    "query F($filter: AuditEventFilter) { auditEventFacets(filter: $filter) { \
                     actions { value count } exact countedEvents countedSince } }",
                    json!({ "filter": filter }),
                    Some(&key),
                )
                .await;
            response.field("auditEventFacets").clone()
        }
    };
    let common = facets(json!({ "search": "smith" })).await;
    assert_eq!(common["exact"], false, "{common}");
    assert_eq!(common["countedEvents"], 5000, "{common}");
    let rare = facets(json!({ "search": "zebra" })).await;
    assert_eq!(rare["exact"], true, "{rare}");
    assert_eq!(rare["countedEvents"], SEEDED / 4000, "{rare}");
    let apart = facets(json!({ "search": "invoice", "actionPrefix": "user." })).await;
    assert_eq!(apart["exact"], false, "{apart}");
    assert_eq!(apart["countedEvents"], 0, "{apart}");
    assert_eq!(apart["actions"], json!([]), "{apart}");
    // The seeded events are a second apart, newest first: the 10,000th
    // `user.login` (every fourth event) lies 39,996 seconds before the newest.
    let since = apart["countedSince"].as_str().expect("countedSince");
    let time = |text: &str| chrono::DateTime::parse_from_rfc3339(text).expect("a timestamp");
    let newest = json!({ "first": 1, "filter": { "actionPrefix": "user." } });
    let newest = app.page(&tenant.admin_key, newest).await;
    let newest = time(newest.nodes[0]["occurredAt"].as_str().expect("occurredAt"));
    let gap = (newest - time(since)).num_seconds();
    assert_eq!(gap, 39_996, "countedSince {since}");
}

/// Every page of `filter`, 50 at a time, following `endCursor` while
/// `hasNextPage` (at most 100 pages).
async fn follow(
    app: &auditlog_tests::TestApp,
    key: &str,
    filter: &Value,
) -> Vec<auditlog_tests::Page> {
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..100 {
        let page = app
            .page(
                key,
                json!({ "first": 50, "after": after, "filter": filter }),
            )
            .await;
        let next = page.has_next_page.then(|| page.end_cursor.clone());
        pages.push(page);
        match next {
            Some(cursor) => after = Some(cursor.expect("hasNextPage without an endCursor")),
            None => return pages,
        }
    }
    panic!("{filter}: more than 100 pages");
}

/// Pieces of names: mixed case, non-ASCII, LIKE and FTS5 metacharacters.
const FRAGMENTS: [&str; 24] = [
    "Alice",
    "BOB",
    "carol",
    "ÉMILE",
    "émile",
    "Zoë",
    "Ünal",
    "İlkay",
    "Ωmega",
    "50%",
    "a_b",
    "back\\slash",
    "O'Brien",
    "\"quoted\"",
    "NEAR(x y)",
    "OR",
    "b*",
    "^start",
    "col:val",
    "-not",
    "Smith",
    "smith",
    "x",
    "Quarterly",
];

/// Addresses, two of them spelled two ways for one address.
const ADDRESSES: [&str; 7] = [
    "10.0.0.1",
    "10.0.0.2",
    "2001:db8::1",
    "2001:DB8:0:0::1",
    "::ffff:1.2.3.4",
    "1.2.3.4",
    "fe80::1",
];

const ACTIONS: [&str; 4] = ["entry.create", "entry.update", "user.login", "invoice.pay"];

/// Terms no event holds (operators, wildcards, a short one).
const ABSENT: [&str; 6] = ["qqzx", "zq", "\"a\" OR b*", "%%", "NEAR(", "ωx"];

fn name(rng: &mut StdRng) -> String {
    let count = rng.random_range(1..=3);
    (0..count)
        .map(|_| *FRAGMENTS.choose(rng).unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

fn random_event(rng: &mut StdRng, minutes: i64) -> Value {
    let mut event = json!({
        "action": ACTIONS.choose(rng).unwrap(),
        "occurredAt": rfc3339(base_time(rng.random_range(0..minutes))),
        "actor": { "type": "USER", "id": format!("u{}", rng.random_range(0..5)), "name": name(rng) },
        "target": { "type": "entry", "id": "t1", "name": name(rng) },
    });
    if rng.random_bool(0.7) {
        let user = FRAGMENTS.choose(rng).unwrap().replace(['"', ' ', '\\'], "");
        event["actor"]["email"] = json!(format!("{user}@Example.COM"));
    }
    if rng.random_bool(0.7) {
        event["context"] = json!({ "ipAddress": ADDRESSES.choose(rng).unwrap() });
    }
    event
}

/// A term of 1 to 6 characters from a field of `event`, its ASCII case
/// flipped at random; or an absent one.
fn random_term(rng: &mut StdRng, event: &Value) -> String {
    let fields = [
        &event["action"],
        &event["actor"]["name"],
        &event["target"]["name"],
    ];
    let text: Vec<char> = fields
        .choose(rng)
        .unwrap()
        .as_str()
        .unwrap_or("x")
        .chars()
        .collect();
    if rng.random_bool(0.15) || text.is_empty() {
        return ABSENT.choose(rng).unwrap().to_string();
    }
    let length = rng.random_range(1..=6).min(text.len());
    let start = rng.random_range(0..=text.len() - length);
    text[start..start + length]
        .iter()
        .map(|c| {
            if rng.random_bool(0.5) {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fn random_filter(rng: &mut StdRng, events: &[Value], minutes: i64) -> Value {
    let mut filter = json!({});
    let event = events.choose(rng).unwrap();
    if rng.random_bool(0.7) {
        filter["search"] = json!(random_term(rng, event));
    }
    if rng.random_bool(0.4) {
        filter["ipAddress"] = json!(ADDRESSES.choose(rng).unwrap());
    }
    if rng.random_bool(0.25) {
        filter["actions"] = json!([ACTIONS.choose(rng).unwrap()]);
    }
    if rng.random_bool(0.15) {
        filter["actorIds"] = json!([format!("u{}", rng.random_range(0..5))]);
    }
    if rng.random_bool(0.3) {
        let after = rng.random_range(0..minutes);
        filter["occurredAfter"] = json!(rfc3339(base_time(after)));
        let before = rng.random_range(after..=minutes);
        filter["occurredBefore"] = json!(rfc3339(base_time(before)));
    }
    filter
}

/// Random events among more than [`INDEX_AFTER`] planted ones and random
/// filters: every answer (all pages) equals the model's, in order.
async fn random_filters_agree_with_the_model(backend: Backend) {
    const MINUTES: i64 = 24 * 60;
    let mut rng = StdRng::seed_from_u64(15);
    let (app, tenant) = app_with_tenant(backend).await;
    let db = connect(app.database_url()).await;
    let tenant_id = tenant_uuid(&tenant.id);
    // Fillers at six instants across the day, so the newest window of a
    // search page ends among the random events and older ones need the index.
    let per_instant = (INDEX_AFTER as usize) / 5;
    for slot in 0..6 {
        let at = base_time(slot * MINUTES / 6 + 7);
        plant(&db, tenant_id, "filler.event", at, per_instant).await;
    }
    let inputs: Vec<Value> = (0..400).map(|_| random_event(&mut rng, MINUTES)).collect();
    for batch in inputs.chunks(200) {
        app.record_ok(&tenant.admin_key, json!(batch)).await;
    }
    let everything = app.all_events(&tenant.admin_key, Value::Null).await;
    assert!(everything.len() > INDEX_AFTER as usize);

    for _ in 0..40 {
        let filter = random_filter(&mut rng, &inputs, MINUTES);
        let modelled: Vec<Value> = everything
            .iter()
            .filter(|e| matches(&filter, e))
            .cloned()
            .collect();
        let answered = app.all_events(&tenant.admin_key, filter.clone()).await;
        assert_eq!(ids(&answered), ids(&modelled), "{backend}: filter {filter}");
    }
    let after = app.all_events(&tenant.admin_key, Value::Null).await;
    assert_eq!(after.len(), everything.len(), "reads recorded no events");
}

backend_tests!(random_filters_agree_with_the_model);
