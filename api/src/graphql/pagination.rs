//! Relay pagination arguments → a keyset [`Page`], and rows → a `Connection`.
//!
//! The list is newest first. `first`/`after` walk towards older events,
//! `last`/`before` towards newer ones; cursors are [`CursorCodec`] tokens.

use async_graphql::connection::{Connection, Edge};
use uuid::Uuid;

use super::cursor::CursorCodec;
use super::types::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::store::events::{Columns, Page, PageDirection, Position};
use entity::audit_events;

pub(super) const DEFAULT_PAGE_SIZE: i32 = 50;
pub(super) const MAX_PAGE_SIZE: i32 = 500;

pub(super) type AuditEventConnection = Connection<String, AuditEvent>;

/// The Relay arguments as received.
pub(super) struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// A validated page request, remembering what the connection's `pageInfo` needs.
pub(super) struct PagePlan {
    pub page: Page,
    requested: usize,
    has_after: bool,
    has_before: bool,
}

impl PageArgs {
    pub(super) fn plan(self, codec: &CursorCodec, tenant_id: Uuid) -> ApiResult<PagePlan> {
        if self.first.is_some() && self.last.is_some() {
            return Err(ApiError::bad_input(
                "pass either `first` or `last`, not both",
            ));
        }
        let (name, size) = match (self.first, self.last) {
            (_, Some(last)) => ("last", last),
            (first, None) => ("first", first.unwrap_or(DEFAULT_PAGE_SIZE)),
        };
        if !(0..=MAX_PAGE_SIZE).contains(&size) {
            return Err(ApiError::bad_input(format!(
                "`{name}` must be between 0 and {MAX_PAGE_SIZE}, got {size}"
            )));
        }
        let decode = |argument: &str, cursor: Option<String>| -> ApiResult<Option<Position>> {
            cursor
                .map(|cursor| {
                    codec.decode(tenant_id, &cursor).ok_or_else(|| {
                        ApiError::bad_input(format!(
                            "`{argument}` is not a valid cursor for this list"
                        ))
                    })
                })
                .transpose()
        };
        let after = decode("after", self.after)?;
        let before = decode("before", self.before)?;
        let (direction, start, stop) = if self.last.is_some() {
            (PageDirection::Newer, before, after)
        } else {
            (PageDirection::Older, after, before)
        };
        let requested = usize::try_from(size).unwrap_or_default();
        Ok(PagePlan {
            // One extra row tells whether another page follows.
            page: Page {
                direction,
                start,
                stop,
                limit: requested as u64 + 1,
                columns: Columns::ALL,
            },
            requested,
            has_after: after.is_some(),
            has_before: before.is_some(),
        })
    }
}

impl PagePlan {
    /// Builds the connection from the rows the store returned for `self.page`.
    pub(super) fn connection(
        &self,
        mut rows: Vec<audit_events::Model>,
        codec: &CursorCodec,
        tenant_id: Uuid,
    ) -> ApiResult<AuditEventConnection> {
        let has_more = rows.len() > self.requested;
        rows.truncate(self.requested);
        let (has_previous_page, has_next_page) = match self.page.direction {
            PageDirection::Older => (self.has_after, has_more),
            PageDirection::Newer => {
                rows.reverse();
                (has_more, self.has_before)
            }
        };
        let mut connection = Connection::new(has_previous_page, has_next_page);
        for row in rows {
            let cursor = codec.encode(tenant_id, Position::of(&row));
            connection
                .edges
                .push(Edge::new(cursor, AuditEvent::try_from(row)?));
        }
        Ok(connection)
    }
}
