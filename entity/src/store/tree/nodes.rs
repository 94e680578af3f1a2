//! Reading and writing `audit_tree_nodes`.
//!
//! - [`append_leaves`]: the ingest side. It reads the tree's frontier (one
//!   query), computes the new leaves' hashes and every perfect subtree they
//!   complete, and writes them in one multi-row INSERT per
//!   [`ROWS_PER_INSERT`]: about two rows per event.
//! - [`root`], [`inclusion_proof`], [`consistency_proof`]: each reads the
//!   O(log² n) nodes its ranges are composed of in one query.

use std::collections::HashMap;
use std::ops::Range;

use entity::audit_events;
use entity::audit_tree_nodes::{self, Column};
use sea_orm::sea_query::{Condition, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::domain::merkle::{
    self, Hash, NodeId, TreeOrigin, append::frontier, completed_nodes, leaf::event_leaf_hash,
    range_hash, range_nodes,
};
use crate::store::StoreError;

/// Rows per INSERT: 4 parameters each, far below both backends' limits.
const ROWS_PER_INSERT: usize = 2_000;

/// Adds `rows` (new events with consecutive sequences, the first one just
/// after the tree's current last leaf) to the tenant's tree, whose origin is
/// `origin`. Runs in the ingest transaction, after the counter row is
/// locked, so appends are serial.
pub async fn append_leaves(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    origin: TreeOrigin,
    rows: &[audit_events::Model],
) -> Result<(), StoreError> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let size = leaf_index(origin, first.sequence)?;
    let leaves = rows
        .iter()
        .map(event_leaf_hash)
        .collect::<Result<Vec<Hash>, String>>()
        .map_err(StoreError::Invalid)?;
    let wanted = frontier(size);
    let found = fetch(txn, tenant_id, &wanted).await?;
    let mut edge = wanted
        .iter()
        .map(|id| {
            found
                .get(id)
                .map(|hash| (*id, *hash))
                .ok_or_else(|| missing(*id))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let completed = completed_nodes(&mut edge, size, leaves);
    for chunk in completed.chunks(ROWS_PER_INSERT) {
        let mut insert = Query::insert();
        insert.into_table(audit_tree_nodes::Entity).columns([
            Column::TenantId,
            Column::Level,
            Column::Idx,
            Column::Hash,
        ]);
        for (id, hash) in chunk {
            insert
                .values([
                    tenant_id.into(),
                    i16::from(id.level).into(),
                    to_i64(id.index)?.into(),
                    hash.to_vec().into(),
                ])
                .map_err(|error| StoreError::Invalid(error.to_string()))?;
        }
        txn.execute(&insert).await?;
    }
    Ok(())
}

/// The root of the tenant's tree of size `size` (which must not exceed the
/// tenant's event counter), or the empty tree's root for 0.
pub async fn root(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    size: u64,
) -> Result<Hash, StoreError> {
    if size == 0 {
        return Ok(merkle::empty_root());
    }
    let nodes = fetch(db, tenant_id, &range_nodes(0..size)).await?;
    compose(0..size, &nodes)
}

/// A leaf's hash and its audit path in the tree of size `tree_size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub leaf_hash: Hash,
    pub audit_path: Vec<Hash>,
}

/// The inclusion proof of leaf `leaf_index` in the tree of size `tree_size`
/// (`leaf_index < tree_size ≤` the tenant's counter: the caller checks).
pub async fn inclusion_proof(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    leaf_index: u64,
    tree_size: u64,
) -> Result<InclusionProof, StoreError> {
    let ranges = merkle::inclusion_ranges(leaf_index, tree_size)
        .ok_or_else(|| StoreError::Invalid(format!("leaf {leaf_index} of {tree_size}")))?;
    let leaf = NodeId::new(0, leaf_index);
    let mut wanted: Vec<NodeId> = ranges.iter().flat_map(|r| range_nodes(r.clone())).collect();
    wanted.push(leaf);
    let nodes = fetch(db, tenant_id, &wanted).await?;
    Ok(InclusionProof {
        leaf_index,
        tree_size,
        leaf_hash: *nodes.get(&leaf).ok_or_else(|| missing(leaf))?,
        audit_path: compose_all(&ranges, &nodes)?,
    })
}

/// The consistency proof from size `from_size` to `to_size`
/// (`0 < from_size ≤ to_size ≤` the tenant's counter: the caller checks).
pub async fn consistency_proof(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    from_size: u64,
    to_size: u64,
) -> Result<Vec<Hash>, StoreError> {
    let ranges = merkle::consistency_ranges(from_size, to_size)
        .ok_or_else(|| StoreError::Invalid(format!("consistency {from_size} to {to_size}")))?;
    let wanted: Vec<NodeId> = ranges.iter().flat_map(|r| range_nodes(r.clone())).collect();
    let nodes = fetch(db, tenant_id, &wanted).await?;
    compose_all(&ranges, &nodes)
}

fn compose_all(
    ranges: &[Range<u64>],
    nodes: &HashMap<NodeId, Hash>,
) -> Result<Vec<Hash>, StoreError> {
    ranges
        .iter()
        .map(|range| compose(range.clone(), nodes))
        .collect()
}

fn compose(range: Range<u64>, nodes: &HashMap<NodeId, Hash>) -> Result<Hash, StoreError> {
    range_hash(range.clone(), nodes).ok_or_else(|| {
        StoreError::Invalid(format!(
            "the tree lacks a node of leaves {}..{}",
            range.start, range.end
        ))
    })
}

/// The stored hashes of `ids` (those that exist), in one query: one
/// `level = ? AND idx IN (...)` term per level.
async fn fetch(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    ids: &[NodeId],
) -> Result<HashMap<NodeId, Hash>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut by_level: HashMap<u8, Vec<i64>> = HashMap::new();
    for id in ids {
        by_level
            .entry(id.level)
            .or_default()
            .push(to_i64(id.index)?);
    }
    let mut any = Condition::any();
    for (level, indices) in by_level {
        any = any.add(
            Condition::all()
                .add(Column::Level.eq(i16::from(level)))
                .add(Column::Idx.is_in(indices)),
        );
    }
    let rows: Vec<(i16, i64, Vec<u8>)> = audit_tree_nodes::Entity::find()
        .select_only()
        .columns([Column::Level, Column::Idx, Column::Hash])
        .filter(Column::TenantId.eq(tenant_id))
        .filter(any)
        .into_tuple()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(level, idx, hash)| {
            let id = NodeId::new(
                u8::try_from(level).map_err(|_| corrupt("level"))?,
                u64::try_from(idx).map_err(|_| corrupt("index"))?,
            );
            let hash: Hash = hash.try_into().map_err(|_| corrupt("hash"))?;
            Ok((id, hash))
        })
        .collect()
}

/// The leaf index of a new event's `sequence`, which is after the origin.
fn leaf_index(origin: TreeOrigin, sequence: i64) -> Result<u64, StoreError> {
    u64::try_from(sequence)
        .ok()
        .and_then(|sequence| origin.leaf_index(sequence))
        .ok_or_else(|| {
            StoreError::Invalid(format!(
                "sequence {sequence} predates the tree (origin {})",
                origin.0
            ))
        })
}

fn to_i64(index: u64) -> Result<i64, StoreError> {
    i64::try_from(index).map_err(|_| StoreError::Invalid(format!("node index {index}")))
}

fn missing(id: NodeId) -> StoreError {
    StoreError::Invalid(format!(
        "the tree lacks node (level {}, index {})",
        id.level, id.index
    ))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Invalid(format!("a stored tree node has an invalid {what}"))
}
