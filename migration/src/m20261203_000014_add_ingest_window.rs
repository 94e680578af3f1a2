//! Adds the ingest quota's per-minute window to `tenants`, the row every
//! ingest transaction already locks to advance `event_counter`: the window is
//! read by that lock statement and written by the one that stores the new
//! counter, so a quota that holds across replicas costs no extra round trip.
//!
//! - `ingest_window_start`: the start of the current minute window (aligned to
//!   the minute; NULL: nothing counted yet);
//! - `ingest_window_events`: events recorded in that window;
//! - `ingest_previous_window_events`: events recorded in the minute before it
//!   (the sliding-window approximation weighs them by the share of that minute
//!   still inside the last 60 seconds; `store::events::ingest_window`).
//!
//! Privileges and isolation need nothing new: `auditlog_app`'s table-level
//! `SELECT, INSERT, UPDATE, DELETE` on `tenants` (migration 7) covers new
//! columns, and the row's `tenant_isolation` policy covers the whole row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum WindowTenants {
    #[sea_orm(iden = "tenants")]
    Table,
    IngestWindowStart,
    IngestWindowEvents,
    IngestPreviousWindowEvents,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE statement.
        for column in [
            ColumnDef::new(WindowTenants::IngestWindowStart)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(WindowTenants::IngestWindowEvents)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(WindowTenants::IngestPreviousWindowEvents)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(WindowTenants::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            WindowTenants::IngestPreviousWindowEvents,
            WindowTenants::IngestWindowEvents,
            WindowTenants::IngestWindowStart,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(WindowTenants::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
