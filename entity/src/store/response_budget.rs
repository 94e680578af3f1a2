//! [`ResponseBudget`]: the bytes one response may still take, shared by every
//! resolver of one request.
//!
//! Resolvers of one query run concurrently (20 aliases of a page fetch 20
//! pages at once), so checking the response only once it is built comes too
//! late: the memory is already spent. Readers charge what they load (a stored
//! event's size) as rows arrive and stop at the first row over the budget, so a
//! request holds at most about the budget plus one row per resolver in flight.
//! The transport still checks the serialized size before sending, as the
//! estimate here counts stored bytes, not JSON.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A per-request byte budget; clones share it.
#[derive(Clone, Debug)]
pub struct ResponseBudget {
    limit: usize,
    spent: Arc<AtomicUsize>,
}

/// The budget is spent; the message says what to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the response would exceed {limit} bytes (AUDITLOG_MAX_RESPONSE_BYTES); ask for smaller pages, fewer fields or fewer aliases"
)]
pub struct ResponseTooLarge {
    pub limit: usize,
}

impl ResponseBudget {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            spent: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Takes `bytes` from the budget; once it is over, every later charge fails too.
    pub fn charge(&self, bytes: usize) -> Result<(), ResponseTooLarge> {
        let before = self.spent.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > self.limit {
            // Stay over the limit even if the counter wrapped.
            self.spent.store(usize::MAX / 2, Ordering::Relaxed);
            return Err(ResponseTooLarge { limit: self.limit });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_are_shared_and_stop_at_the_limit() {
        let budget = ResponseBudget::new(100);
        let other = budget.clone();
        assert_eq!(budget.charge(60), Ok(()));
        assert_eq!(other.charge(40), Ok(()));
        assert_eq!(other.charge(1), Err(ResponseTooLarge { limit: 100 }));
        assert_eq!(budget.charge(0), Err(ResponseTooLarge { limit: 100 }));
    }
}
