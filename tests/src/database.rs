//! Direct database access, for what no API can do: plant events that occurred
//! days ago (ingest refuses events already outside the retention window), count
//! what is physically stored (the read path hides expired events), and run purge
//! passes in the test process.
//!
//! Writes go through the service's own store (`store::events::append`), so
//! planted events are indistinguishable from recorded ones (same sequence
//! algorithm, same encodings on both backends). Everything runs in transactions
//! scoped to the tenant ([`scoped`]), so it works on the service's own role
//! under row-level security.

use std::collections::BTreeSet;
use std::time::Duration;

use auditlog_api::live::{Hub, HubSettings};
use auditlog_worker::purge::pass::unique_holder;
use auditlog_worker::purge::{PurgeSettings, Purger};
use chrono::{DateTime, Utc};
use entity::domain::merkle::NodeId;
use entity::domain::merkle::append::frontier;
use entity::domain::new_event::RawEvent;
use entity::domain::{ActorType, NewEvent, RetentionRules, clock};
use entity::store;
use entity::{audit_events, audit_tree_nodes};
use sea_orm::{
    ActiveValue, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, PaginatorTrait,
    QueryFilter, QuerySelect,
};
use uuid::Uuid;

/// Events per planting transaction.
const PLANT_BATCH: usize = 1000;

/// A transaction scoped to `tenant_id` (row-level security on PostgreSQL), as
/// the service opens them; a read-only one may simply be dropped (rolled back).
pub async fn scoped(db: &DatabaseConnection, tenant_id: Uuid) -> DatabaseTransaction {
    store::tenant_scope::begin(db, tenant_id)
        .await
        .unwrap_or_else(|e| panic!("cannot begin a transaction for tenant {tenant_id}: {e}"))
}

/// A connection pool on the database of a test app.
pub async fn connect(database_url: &str) -> DatabaseConnection {
    auditlog_api::db::connect_url(database_url, 4)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {database_url}: {e:#}"))
}

/// Stores `count` events of `tenant_id` with action `action` that occurred at
/// `occurred_at`, as if recorded then; returns their ids.
pub async fn plant(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    action: &str,
    occurred_at: DateTime<Utc>,
    count: usize,
) -> Vec<Uuid> {
    let now = clock::now();
    let mut ids = Vec::with_capacity(count);
    let mut left = count;
    while left > 0 {
        let size = left.min(PLANT_BATCH);
        left -= size;
        let events: Vec<NewEvent> = (0..size)
            .map(|_| {
                let raw = RawEvent {
                    action: action.to_owned(),
                    actor_type: Some(ActorType::User),
                    actor_id: "planted-user".into(),
                    actor_name: Some(format!("planter of {action}")),
                    occurred_at: Some(occurred_at),
                    ..RawEvent::default()
                };
                NewEvent::parse(raw, now).unwrap_or_else(|e| panic!("bad planted event: {e:?}"))
            })
            .collect();
        let txn = scoped(db, tenant_id).await;
        let stored = store::events::append(&txn, tenant_id, events, now)
            .await
            .unwrap_or_else(|e| panic!("cannot plant events: {e}"));
        txn.commit()
            .await
            .unwrap_or_else(|e| panic!("cannot commit: {e}"));
        ids.extend(stored.iter().map(|row| row.id));
    }
    ids
}

/// Stores one event as the client sent it in `raw`, as if received when it
/// occurred, `occurred_at` (even when `raw` left `occurredAt` out, like a client
/// relying on the default); returns its id.
pub async fn plant_raw(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    raw: RawEvent,
    occurred_at: DateTime<Utc>,
) -> Uuid {
    let mut event =
        NewEvent::parse(raw, clock::now()).unwrap_or_else(|e| panic!("bad planted event: {e:?}"));
    event.occurred_at = occurred_at;
    let txn = scoped(db, tenant_id).await;
    let stored = store::events::append(&txn, tenant_id, vec![event], occurred_at)
        .await
        .unwrap_or_else(|e| panic!("cannot plant an event: {e}"));
    txn.commit()
        .await
        .unwrap_or_else(|e| panic!("cannot commit: {e}"));
    stored[0].id
}

/// Ids of every event of the tenant that is physically stored.
pub async fn stored_ids(db: &DatabaseConnection, tenant_id: Uuid) -> BTreeSet<Uuid> {
    let ids: Vec<Uuid> = audit_events::Entity::find()
        .select_only()
        .column(audit_events::Column::Id)
        .filter(audit_events::Column::TenantId.eq(tenant_id))
        .into_tuple()
        .all(&scoped(db, tenant_id).await)
        .await
        .unwrap_or_else(|e| panic!("reading stored ids: {e}"));
    ids.into_iter().collect()
}

/// How many events of the tenant are physically stored.
pub async fn stored_count(db: &DatabaseConnection, tenant_id: Uuid) -> u64 {
    audit_events::Entity::find()
        .filter(audit_events::Column::TenantId.eq(tenant_id))
        .count(&scoped(db, tenant_id).await)
        .await
        .unwrap_or_else(|e| panic!("counting stored events: {e}"))
}

/// How many events of the tenant with `action` are physically stored.
pub async fn stored_count_with_action(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    action: &str,
) -> u64 {
    audit_events::Entity::find()
        .filter(audit_events::Column::TenantId.eq(tenant_id))
        .filter(audit_events::Column::Action.eq(action))
        .count(&scoped(db, tenant_id).await)
        .await
        .unwrap_or_else(|e| panic!("counting events by action: {e}"))
}

/// Stored events of the tenant with `action`, oldest sequence first.
pub async fn stored_with_action(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    action: &str,
) -> Vec<audit_events::Model> {
    let mut rows = audit_events::Entity::find()
        .filter(audit_events::Column::TenantId.eq(tenant_id))
        .filter(audit_events::Column::Action.eq(action))
        .all(&scoped(db, tenant_id).await)
        .await
        .unwrap_or_else(|e| panic!("reading events by action: {e}"));
    rows.sort_by_key(|row| row.sequence);
    rows
}

/// Purge settings for tests: the default policy, `batch_size`, a 30 s lease
/// and a fresh holder id.
pub fn purge_settings(batch_size: u64) -> PurgeSettings {
    PurgeSettings {
        rules: RetentionRules::default(),
        batch_size,
        lease: Duration::from_secs(30),
        holder: unique_holder("test"),
    }
}

/// A purger on `db` (its own hub: published events reach other processes through
/// PostgreSQL NOTIFY; the app's subscribers resync from the database).
pub fn purger(db: &DatabaseConnection, settings: PurgeSettings) -> Purger {
    Purger::new(
        db.clone(),
        std::sync::Arc::new(Hub::new(db.clone(), HubSettings::default())),
        settings,
    )
}

/// 2^32 + 1000: a counter past GraphQL's `Int` (2^31 − 1) and past `u32`.
pub const HIGH_SEQUENCE: i64 = (1 << 32) + 1000;

/// Sets a tenant's event counter (the last sequence handed out) directly in
/// the database, as a superuser: no API moves it. The tree first gets the
/// frontier of its new size ([`store_tree_frontier`]), so the database lets
/// the counter move and ingest goes on.
pub async fn set_event_counter(superuser_database_url: &str, tenant_id: Uuid, counter: i64) {
    let db = connect(superuser_database_url).await;
    let size = u64::try_from(counter).unwrap_or_else(|_| panic!("counter {counter}"));
    store_tree_frontier(&db, tenant_id, size).await;
    let updated = entity::tenants::Entity::update_many()
        .col_expr(
            entity::tenants::Column::EventCounter,
            sea_orm::sea_query::Expr::value(counter),
        )
        .filter(entity::tenants::Column::Id.eq(tenant_id))
        .exec(&db)
        .await
        .unwrap_or_else(|e| panic!("cannot set the event counter: {e}"));
    assert_eq!(updated.rows_affected, 1, "one tenant row updated");
}

/// For a tenant whose events (or counter) are written around the event
/// store, as seeding does: stores the frontier of a Merkle tree of `size`
/// leaves (its largest perfect subtrees, what the next append combines
/// with) and its last leaf, which the database checks before the counter
/// may become `size` (`tenants_tree_guard`). Call it before
/// moving the counter; later appends (ingest, self-audit events, purge
/// reports) then work. The hashes are placeholders, so proofs over the
/// seeded sequences are meaningless. Needs a role that may write any
/// tenant's rows (a superuser).
pub async fn store_tree_frontier(db: &impl sea_orm::ConnectionTrait, tenant_id: Uuid, size: u64) {
    let Some(last) = size.checked_sub(1) else {
        return;
    };
    let mut nodes = frontier(size);
    if nodes.last() != Some(&NodeId::new(0, last)) {
        nodes.push(NodeId::new(0, last));
    }
    let rows = nodes.into_iter().map(|node| audit_tree_nodes::ActiveModel {
        tenant_id: ActiveValue::Set(tenant_id),
        level: ActiveValue::Set(i16::from(node.level)),
        idx: ActiveValue::Set(i64::try_from(node.index).unwrap_or(i64::MAX)),
        hash: ActiveValue::Set(vec![0xab; 32]),
    });
    audit_tree_nodes::Entity::insert_many(rows)
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await
        .unwrap_or_else(|e| panic!("cannot store the tree's frontier: {e}"));
}

/// The tenant id of a `TenantHandle`.
pub fn tenant_uuid(id: &str) -> Uuid {
    Uuid::parse_str(id).unwrap_or_else(|e| panic!("tenant id {id} is not a UUID: {e}"))
}
