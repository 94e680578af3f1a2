//! The connection caps: at most `AUDITLOG_MAX_CONNECTIONS` connections at once
//! and `AUDITLOG_MAX_CONNECTIONS_PER_IP` from one client address. A connection
//! over a cap is closed at once, before anything is read from it: answering
//! 503 would mean reading a request head, which is the very thing a slowloris
//! client holds back.
//!
//! An [`Admitted`] ticket travels with the socket (see [`AdmittedStream`]), so
//! a WebSocket keeps its place until it closes, not just until its upgrade.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::limits::client_bucket;

/// Which cap refused a connection: the `scope` label of
/// `auditlog_http_connections_refused_total` (a closed set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Global,
    PerIp,
}

impl Refusal {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::PerIp => "ip",
        }
    }
}

/// Hands out places under both caps; cheap to clone.
#[derive(Clone)]
pub(crate) struct Admission {
    /// `None`: no global cap.
    global: Option<Arc<Semaphore>>,
    /// Open connections per client bucket; `0` cap: none kept.
    per_ip: Arc<Mutex<HashMap<IpAddr, usize>>>,
    per_ip_cap: usize,
    /// Reverse proxies carry many clients on their connections: exempt from
    /// the per-IP cap (the global cap still counts them).
    trusted_proxies: Arc<[IpNet]>,
}

impl Admission {
    /// `0` for either cap means unlimited.
    pub(crate) fn new(
        max_connections: usize,
        per_ip_cap: usize,
        trusted_proxies: Arc<[IpNet]>,
    ) -> Self {
        Self {
            global: (max_connections > 0).then(|| Arc::new(Semaphore::new(max_connections))),
            per_ip: Arc::default(),
            per_ip_cap,
            trusted_proxies,
        }
    }

    /// A place for a connection from `peer`, or the cap that refuses it.
    pub(crate) fn admit(&self, peer: IpAddr) -> Result<Admitted, Refusal> {
        let ip_slot = self.ip_slot(peer)?;
        let permit = match &self.global {
            Some(semaphore) => Some(
                semaphore
                    .clone()
                    .try_acquire_owned()
                    .map_err(|_| Refusal::Global)?,
            ),
            None => None,
        };
        metrics::gauge!("auditlog_http_connections_open").increment(1.0);
        Ok(Admitted {
            _permit: permit,
            _ip_slot: ip_slot,
        })
    }

    fn ip_slot(&self, peer: IpAddr) -> Result<Option<IpSlot>, Refusal> {
        if self.per_ip_cap == 0 || self.trusted_proxies.iter().any(|net| net.contains(&peer)) {
            return Ok(None);
        }
        let bucket = client_bucket(peer);
        let mut open = self.per_ip.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(bucket).or_insert(0);
        if *count >= self.per_ip_cap {
            return Err(Refusal::PerIp);
        }
        *count += 1;
        Ok(Some(IpSlot {
            open: self.per_ip.clone(),
            bucket,
        }))
    }
}

/// One connection's place under the caps, given back when dropped.
pub(crate) struct Admitted {
    _permit: Option<OwnedSemaphorePermit>,
    _ip_slot: Option<IpSlot>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        metrics::gauge!("auditlog_http_connections_open").decrement(1.0);
    }
}

struct IpSlot {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    bucket: IpAddr,
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.bucket) {
            *count = count.saturating_sub(1);
            // Drop empty entries so the map stays as small as the open set.
            if *count == 0 {
                open.remove(&self.bucket);
            }
        }
    }
}

/// A TCP stream that holds its [`Admitted`] place for as long as it lives
/// (also inside a WebSocket after the upgrade).
pub(super) struct AdmittedStream {
    stream: TcpStream,
    _admitted: Admitted,
}

impl AdmittedStream {
    pub(super) fn new(stream: TcpStream, admitted: Admitted) -> Self {
        Self {
            stream,
            _admitted: admitted,
        }
    }
}

impl AsyncRead for AdmittedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for AdmittedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{Admission, Refusal};

    #[test]
    fn caps_connections_in_total_and_per_address() {
        let admission = Admission::new(3, 2, Arc::from(vec!["10.0.0.0/8".parse().unwrap()]));
        let a = "192.0.2.1".parse().unwrap();
        let b = "192.0.2.2".parse().unwrap();
        let first = admission.admit(a).unwrap();
        let _second = admission.admit(a).unwrap();
        assert_eq!(admission.admit(a).err(), Some(Refusal::PerIp));
        let _third = admission.admit(b).unwrap();
        assert_eq!(admission.admit(b).err(), Some(Refusal::Global));
        drop(first);
        // The freed place serves anyone; the trusted proxy skips the per-IP count.
        let _proxy = admission.admit("10.1.1.1".parse().unwrap()).unwrap();
        assert_eq!(admission.admit(a).err(), Some(Refusal::Global));
    }
}
