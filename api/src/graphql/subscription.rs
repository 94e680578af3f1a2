//! `Subscription`: the live audit log (ADMIN and AUDITOR).

use async_graphql::{Context, Result, Subscription};
use futures::{Stream, StreamExt};

use super::context::ContextExt;
use super::inputs::AuditEventFilter;
use super::query::{READERS, given_filter};
use super::scalars::Sequence;
use super::types::AuditEvent;
use crate::domain::clock;
use crate::error::ApiError;
use crate::limits::ConnectionBuffer;
use crate::live::stream::{LiveRequest, LiveRetention, Registered, subscribe};
use crate::service::view_audit::{ReadField, View};

pub struct SubscriptionRoot;

/// The live audit log over WebSocket (graphql-transport-ws or
/// graphql-ws), for ADMIN and AUDITOR.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Events of the caller's tenant (ADMIN, AUDITOR) matching `filter`, in `sequence` order, each
    /// exactly once. With `afterSequence: N`, stored events after N are replayed
    /// first; without it, delivery starts with the next event recorded. A
    /// subscriber that falls too far behind gets a `SUBSCRIBER_LAGGED` error
    /// naming the `afterSequence` to resume from.
    async fn audit_event_recorded(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events matching every given field.")] filter: Option<
            AuditEventFilter,
        >,
        #[graphql(
            desc = "Replay the stored events with a greater `sequence` first (0 replays all retained ones)."
        )]
        after_sequence: Option<Sequence>,
    ) -> Result<impl Stream<Item = Result<AuditEvent>> + use<>> {
        let caller = ctx.principal().tenant(READERS)?;
        // `Sequence` refuses negative and out-of-range values during coercion.
        let after_sequence = after_sequence.map(|Sequence(sequence)| sequence);
        let given = given_filter(filter.as_ref());
        let mut filter = filter.unwrap_or_default().into_domain()?;
        // Starting a subscription is a read of the log (replay and live alike).
        let view = View::of(ReadField::Subscription, given);
        ctx.services().view_audit.viewed(caller, view).await?;
        // A viewer token's scope narrows what it hears, replay and live alike.
        if let Some(scope) = caller.scope() {
            filter = filter.and(scope);
        }
        // Replay never returns expired events; over WebSocket the window is
        // re-read as it changes (`LiveRetention`).
        filter.retained_since = caller.retention.cutoff(clock::now());
        let request = LiveRequest {
            tenant_id: caller.tenant_id,
            filter,
            after_sequence,
            registered: ctx.data_opt::<Registered>().cloned(),
            retention: ctx.data_opt::<LiveRetention>().cloned(),
            buffer: ctx.data_opt::<ConnectionBuffer>().cloned(),
        };
        let events = subscribe(ctx.services().live.clone(), request).map(|item| {
            let row = item.map_err(ApiError::from)?;
            Ok(AuditEvent::try_from(row.as_ref().clone())?)
        });
        Ok(events)
    }
}
