//! [`KeyedLimiter`]: a `governor` keyed rate limiter that may be turned off,
//! says how long to wait, and forgets idle keys so its memory stays bounded.

use std::hash::Hash;
use std::sync::{Arc, Weak};
use std::time::Duration;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};

/// How often keys whose bucket is full again are dropped. Between two sweeps
/// the map holds at most the keys seen in that interval.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60);

pub struct KeyedLimiter<K: Hash + Eq + Clone> {
    /// `None`: the limit is off and every check passes.
    inner: Option<Arc<DefaultKeyedRateLimiter<K>>>,
}

impl<K: Hash + Eq + Clone> Clone for KeyedLimiter<K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> KeyedLimiter<K> {
    /// A limiter for `quota` (`None`: off). Must run inside the Tokio runtime
    /// (it starts the sweep of idle keys, which ends with the limiter).
    pub fn new(quota: Option<Quota>) -> Self {
        let inner = quota.map(|quota| Arc::new(DefaultKeyedRateLimiter::keyed(quota)));
        if let Some(limiter) = &inner {
            spawn_housekeeping(Arc::downgrade(limiter));
        }
        Self { inner }
    }

    pub fn off() -> Self {
        Self { inner: None }
    }

    pub fn is_on(&self) -> bool {
        self.inner.is_some()
    }

    /// Takes one cell for `key`, or says how long until one is available.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }
}

fn spawn_housekeeping<K: Hash + Eq + Clone + Send + Sync + 'static>(
    limiter: Weak<DefaultKeyedRateLimiter<K>>,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no Tokio runtime: idle rate-limit keys will not be swept");
        return;
    };
    runtime.spawn(async move {
        let mut interval = tokio::time::interval(HOUSEKEEPING_EVERY);
        interval.tick().await;
        loop {
            interval.tick().await;
            let Some(limiter) = limiter.upgrade() else {
                return;
            };
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::KeyedLimiter;
    use crate::limits::Rate;

    #[tokio::test]
    async fn limits_each_key_separately() {
        let limiter = KeyedLimiter::new(Rate::per_minute(1).quota(2));
        assert!(limiter.check(&"a").is_ok());
        assert!(limiter.check(&"a").is_ok());
        let wait = limiter.check(&"a").unwrap_err();
        assert!(wait.as_secs() >= 29, "{wait:?}");
        assert!(limiter.check(&"b").is_ok());
    }

    #[test]
    fn an_off_limiter_passes_everything() {
        let limiter = KeyedLimiter::<u8>::off();
        assert!(!limiter.is_on());
        for _ in 0..1000 {
            assert!(limiter.check(&1).is_ok());
        }
    }
}
