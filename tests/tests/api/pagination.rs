//! Relay paging over `auditEvents`: forward (`first`/`after`) and backward
//! (`last`/`before`) across several pages, with ties on `occurredAt`, no gaps, no
//! repeats, and correct `pageInfo`; newest first by `(occurredAt, id)`.

use auditlog_tests::{Backend, Page, TestApp, backend_tests};
use serde_json::{Value, json};

use crate::helpers::{app_with_tenant, base_time, event, id, ids, instant, rfc3339};

const PREFIX: &str = "page.";

/// Records `count` events in groups of five sharing one `occurredAt` (so the order
/// relies on the id tie-break), in an input order unrelated to time. Returns their
/// ids in the expected list order: newest first by `(occurredAt, id)`.
async fn seed(app: &TestApp, key: &str, count: usize) -> Vec<String> {
    let inputs: Vec<Value> = (0..count)
        .map(|i| (i * 7) % count)
        .map(|n| {
            let mut input = event("page.view");
            input["occurredAt"] = json!(rfc3339(base_time(i64::try_from(n / 5).expect("small"))));
            input["payload"] = json!({ "n": n });
            input
        })
        .collect();
    let mut written = app.record_ok(key, Value::Array(inputs)).await;
    written.sort_by(|a, b| {
        (instant(&b["occurredAt"]), id(b)).cmp(&(instant(&a["occurredAt"]), id(a)))
    });
    ids(&written)
}

fn filter() -> Value {
    json!({ "actionPrefix": PREFIX })
}

#[track_caller]
fn assert_cursors_consistent(page: &Page) {
    assert_eq!(
        page.start_cursor.as_ref(),
        page.cursors.first(),
        "startCursor is the first edge's cursor"
    );
    assert_eq!(
        page.end_cursor.as_ref(),
        page.cursors.last(),
        "endCursor is the last edge's cursor"
    );
}

#[track_caller]
fn assert_newest_first(events: &[Value]) {
    for pair in events.windows(2) {
        let newer = (instant(&pair[0]["occurredAt"]), id(&pair[0]));
        let older = (instant(&pair[1]["occurredAt"]), id(&pair[1]));
        assert!(
            newer > older,
            "not newest first by (occurredAt, id): {newer:?} before {older:?}"
        );
    }
}

async fn pages_forward_without_gaps_or_repeats(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let expected = seed(&app, key, 25).await;

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .page(
                key,
                json!({ "first": 7, "after": after, "filter": filter() }),
            )
            .await;
        assert_cursors_consistent(&page);
        if after.is_none() {
            assert!(
                !page.has_previous_page,
                "the first page has no previous page"
            );
        }
        sizes.push(page.nodes.len());
        seen.extend(page.ids());
        let done = !page.has_next_page;
        assert_eq!(
            done,
            seen.len() == expected.len(),
            "hasNextPage is false exactly on the last page"
        );
        if done {
            break;
        }
        after = page.end_cursor.clone();
    }
    assert_eq!(sizes, vec![7, 7, 7, 4]);
    assert_eq!(
        seen, expected,
        "forward pages concatenate to the whole list, in order"
    );

    // The unfiltered list (self-audit events included) is newest first too.
    assert_newest_first(&app.all_events(key, Value::Null).await);
}

async fn pages_backward_without_gaps_or_repeats(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let expected = seed(&app, key, 25).await;

    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = app
            .page(
                key,
                json!({ "last": 7, "before": before, "filter": filter() }),
            )
            .await;
        assert_cursors_consistent(&page);
        if before.is_none() {
            assert!(!page.has_next_page, "the last page has no next page");
        }
        assert_newest_first(&page.nodes);
        pages.push(page.ids());
        let seen: usize = pages.iter().map(Vec::len).sum();
        let done = !page.has_previous_page;
        assert_eq!(
            done,
            seen == expected.len(),
            "hasPreviousPage is false exactly on the first page"
        );
        if done {
            break;
        }
        before = page.start_cursor.clone();
    }
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![7, 7, 7, 4]
    );
    let seen: Vec<String> = pages.into_iter().rev().flatten().collect();
    assert_eq!(
        seen, expected,
        "backward pages, put back in order, are the whole list"
    );
}

async fn forward_then_backward_returns_to_the_same_page(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let expected = seed(&app, key, 25).await;

    let first = app
        .page(key, json!({ "first": 7, "filter": filter() }))
        .await;
    let second = app
        .page(
            key,
            json!({ "first": 7, "after": first.end_cursor, "filter": filter() }),
        )
        .await;
    assert_eq!(second.ids(), expected[7..14].to_vec());
    let back = app
        .page(
            key,
            json!({ "last": 7, "before": second.start_cursor, "filter": filter() }),
        )
        .await;
    assert_eq!(back.ids(), first.ids());
    assert_eq!(back.ids(), expected[..7].to_vec());
    assert!(
        back.has_next_page,
        "a backward page before a cursor has a next page"
    );
    assert!(!back.has_previous_page, "nothing precedes the first page");

    // A middle page read backward knows both neighbours exist.
    let third = app
        .page(
            key,
            json!({ "first": 7, "after": second.end_cursor, "filter": filter() }),
        )
        .await;
    let middle = app
        .page(
            key,
            json!({ "last": 7, "before": third.start_cursor, "filter": filter() }),
        )
        .await;
    assert_eq!(middle.ids(), second.ids());
    assert!(
        middle.has_previous_page && middle.has_next_page,
        "middle page: {middle:?}"
    );
}

async fn cursor_survives_newer_events(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let expected = seed(&app, key, 25).await;

    let first = app
        .page(key, json!({ "first": 7, "filter": filter() }))
        .await;
    // New events (occurredAt now) sort before the whole seeded list.
    let newer = app
        .record_ok(
            key,
            json!([event("page.view"), event("page.view"), event("page.view")]),
        )
        .await;
    let second = app
        .page(
            key,
            json!({ "first": 7, "after": first.end_cursor, "filter": filter() }),
        )
        .await;
    assert_eq!(
        second.ids(),
        expected[7..14].to_vec(),
        "keyset cursors do not shift when rows are added"
    );

    let from_top = app
        .page(key, json!({ "first": 3, "filter": filter() }))
        .await;
    let mut newest = ids(&newer);
    newest.sort_by(|a, b| b.cmp(a));
    let mut top = from_top.ids();
    top.sort_by(|a, b| b.cmp(a));
    assert_eq!(top, newest, "the new events come first");
}

async fn page_sizes_default_to_50_and_allow_500(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    let expected = seed(&app, key, 60).await;

    let default = app.page(key, json!({ "filter": filter() })).await;
    assert_eq!(
        default.ids(),
        expected[..50].to_vec(),
        "without first/last a page holds 50 events"
    );
    assert!(default.has_next_page);

    let largest = app
        .page(key, json!({ "first": 500, "filter": filter() }))
        .await;
    assert_eq!(largest.ids(), expected, "first: 500 is allowed");
    assert!(!largest.has_next_page);

    let tail = app
        .page(key, json!({ "last": 500, "filter": filter() }))
        .await;
    assert_eq!(tail.ids(), expected, "last: 500 is allowed");
    assert!(!tail.has_previous_page);
}

async fn pages_through_a_filtered_list(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let key = tenant.admin_key.as_str();
    seed(&app, key, 25).await;
    let filter = json!({ "actionPrefix": PREFIX, "occurredAfter": rfc3339(base_time(1)), "occurredBefore": rfc3339(base_time(4)) });
    let expected = ids(&app.all_events(key, filter.clone()).await);
    assert_eq!(expected.len(), 15, "three groups of five");

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..3 {
        let page = app
            .page(key, json!({ "first": 5, "after": after, "filter": filter }))
            .await;
        seen.extend(page.ids());
        after = page.end_cursor.clone();
    }
    assert_eq!(seen, expected);
    let past_the_end = app
        .page(key, json!({ "first": 5, "after": after, "filter": filter }))
        .await;
    assert!(
        past_the_end.nodes.is_empty() && !past_the_end.has_next_page,
        "{past_the_end:?}"
    );
}

/// A page reads the payload and the request context only when the selection
/// shows them (`Columns`); they must arrive whichever way they are selected:
/// through `edges.node`, `nodes`, a named fragment or an inline fragment, under
/// an alias.
async fn payload_and_context_arrive_however_they_are_selected(backend: Backend) {
    let (app, tenant) = app_with_tenant(backend).await;
    let mut input = event("page.view");
    input["payload"] = json!({ "nested": { "n": 7 } });
    input["context"] =
        json!({ "ipAddress": "192.0.2.7", "userAgent": "agent/1", "requestId": "req-1" });
    app.record_ok(&tenant.admin_key, json!([input])).await;
    let selections = [
        "edges { node { payload context { ipAddress userAgent requestId } } }",
        "nodes { payload context { ipAddress userAgent requestId } }",
        "nodes { ...Shown }",
        "edges { node { ... on AuditEvent { payload context { ipAddress userAgent requestId } } } }",
        "nodes { data: payload where: context { ipAddress userAgent requestId } }",
    ];
    for selection in selections {
        let query = format!(
            "query {{ auditEvents(first: 1, filter: {{ actions: [\"page.view\"] }}) {{ {selection} }} }}{}",
            if selection.contains("...Shown") {
                " fragment Shown on AuditEvent { payload context { ipAddress userAgent requestId } }"
            } else {
                ""
            }
        );
        let data = app
            .graphql(&query, json!({}), Some(&tenant.admin_key))
            .await
            .into_data();
        let list = &data["auditEvents"];
        let node = list["nodes"]
            .get(0)
            .or_else(|| list["edges"].get(0).map(|edge| &edge["node"]))
            .unwrap_or_else(|| panic!("no event for {selection}: {data}"));
        let payload = node.get("payload").or_else(|| node.get("data"));
        let context = node.get("context").or_else(|| node.get("where"));
        assert_eq!(
            payload,
            Some(&json!({ "nested": { "n": 7 } })),
            "{selection}"
        );
        assert_eq!(
            context,
            Some(
                &json!({ "ipAddress": "192.0.2.7", "userAgent": "agent/1", "requestId": "req-1" })
            ),
            "{selection}"
        );
    }
    // Without them the rest of the event is whole.
    let data = app
        .graphql(
            "query { auditEvents(first: 1, filter: { actions: [\"page.view\"] }) { nodes { id action sequence } } }",
            json!({}),
            Some(&tenant.admin_key),
        )
        .await
        .into_data();
    assert_eq!(data["auditEvents"]["nodes"][0]["action"], "page.view");
}

backend_tests!(
    payload_and_context_arrive_however_they_are_selected,
    pages_forward_without_gaps_or_repeats,
    pages_backward_without_gaps_or_repeats,
    forward_then_backward_returns_to_the_same_page,
    cursor_survives_newer_events,
    page_sizes_default_to_50_and_allow_500,
    pages_through_a_filtered_list,
);
