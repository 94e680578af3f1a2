//! `retention_leases`: which purge worker may purge a tenant right now.
//!
//! One row per tenant that was ever purged. A worker holds the lease while
//! `holder` is its id and `expires_at` lies in the future; anyone may take an
//! expired lease. `unreported_deletions` counts events deleted under the lease
//! that no `retention.purge` event reports yet, so a pass interrupted between a
//! batch and its report hands the count to the next pass instead of losing it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_leases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    pub holder: String,
    pub expires_at: DateTimeUtc,
    pub unreported_deletions: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
