//! Relay pagination arguments → a keyset [`Page`], and rows → a `Connection`.
//!
//! The list is newest first. `first`/`after` walk towards older events,
//! `last`/`before` towards newer ones; cursors are [`CursorCodec`] tokens.
//!
//! The connection is ours rather than async-graphql's `Connection`, whose
//! `pageInfo` cursors are always its first and last edges': a `search` page
//! that stopped at its scan bound (`store::events::search`) may hold fewer
//! events than asked, or none, and its `pageInfo` then points where the scan
//! stopped, so the next page continues from there. The schema is the same.

use async_graphql::Object;
use async_graphql::connection::{Edge, EmptyFields, PageInfo};
use uuid::Uuid;

use super::cursor::CursorCodec;
use super::types::AuditEvent;
use crate::error::{ApiError, ApiResult};
use crate::store::events::{Columns, Page, PageDirection, PageRows, Position};

pub(super) const DEFAULT_PAGE_SIZE: i32 = 50;
pub(super) const MAX_PAGE_SIZE: i32 = 500;

type AuditEventEdge = Edge<String, AuditEvent, EmptyFields>;

/// A page of events, as async-graphql's `Connection<String, AuditEvent>`
/// shows it (same type names and fields), with `pageInfo` set by the page.
pub(super) struct AuditEventConnection {
    page_info: PageInfo,
    edges: Vec<AuditEventEdge>,
}

#[Object]
impl AuditEventConnection {
    /// Information to aid in pagination.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }

    /// A list of edges.
    async fn edges(&self) -> &[AuditEventEdge] {
        &self.edges
    }

    /// A list of nodes.
    async fn nodes(&self) -> Vec<&AuditEvent> {
        self.edges.iter().map(|edge| &edge.node).collect()
    }
}

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
    ///
    /// A page the store stopped short ([`PageRows::resume_at`]) has more to
    /// come on its walking side, from the place it stopped, even when it holds
    /// no row: that side's cursor is that place.
    pub(super) fn connection(
        &self,
        rows: PageRows,
        codec: &CursorCodec,
        tenant_id: Uuid,
    ) -> ApiResult<AuditEventConnection> {
        let PageRows {
            mut rows,
            resume_at,
        } = rows;
        let full = rows.len() > self.requested;
        rows.truncate(self.requested);
        let resume = if full { None } else { resume_at };
        let has_more = full || resume.is_some();
        if self.page.direction == PageDirection::Newer {
            rows.reverse();
        }
        let mut edges = Vec::with_capacity(rows.len());
        for row in rows {
            let cursor = codec.encode(tenant_id, Position::of(&row));
            edges.push(Edge::new(cursor, AuditEvent::try_from(row)?));
        }
        let first = edges
            .first()
            .map(|edge: &AuditEventEdge| edge.cursor.clone());
        let last = edges
            .last()
            .map(|edge: &AuditEventEdge| edge.cursor.clone());
        let resume = resume.map(|position| codec.encode(tenant_id, position));
        let page_info = match self.page.direction {
            PageDirection::Older => PageInfo {
                has_previous_page: self.has_after,
                has_next_page: has_more,
                start_cursor: first,
                end_cursor: resume.or(last),
            },
            PageDirection::Newer => PageInfo {
                has_previous_page: has_more,
                has_next_page: self.has_before,
                start_cursor: resume.or(first),
                end_cursor: last,
            },
        };
        Ok(AuditEventConnection { page_info, edges })
    }
}
