//! The HTTP server loop: accept, admit under the connection caps, serve each
//! connection with a header-read timeout, a keep-alive idle timeout and
//! graceful shutdown (docs/security.md: "Connections").
//!
//! It mirrors `axum::serve` (which exposes none of these knobs): one task per
//! connection running hyper's HTTP/1 connection with upgrades (WebSockets),
//! `ConnectInfo<SocketAddr>` put into every request, and on the shutdown
//! signal no new connections while open ones finish. HTTP/1 only, as before:
//! axum's `http2` feature was never on, and hyper's HTTP/1 builder needs no
//! extra hyper-util features (so no rebuild of the HTTP stack).

mod admission;
mod idle;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use futures::FutureExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

pub(crate) use admission::Admission;
use admission::AdmittedStream;
use idle::Activity;

/// How connections are served; see `config::ConnectionsConfig`.
#[derive(Clone)]
pub(crate) struct ConnectionPolicy {
    /// hyper's header-read timeout: a request head must be complete this long
    /// after the accept or the previous response (`None`: off).
    pub header_read_timeout: Option<Duration>,
    /// An idle keep-alive connection is closed this long after its last response.
    pub keep_alive_timeout: Option<Duration>,
    pub admission: Admission,
}

/// Serves `router` on `listener` until `signal` resolves, then stops
/// accepting and resolves once every (non-upgraded) connection has finished.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    policy: ConnectionPolicy,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut listener = listener;
    let mut signal = pin!(signal);
    // Dropping the receiver tells connections to shut down; the closing of
    // every `close_rx` clone tells this loop they have.
    let (signal_tx, signal_rx) = watch::channel(());
    let (close_tx, close_rx) = watch::channel(());
    loop {
        let (stream, remote) = tokio::select! {
            accepted = axum::serve::Listener::accept(&mut listener) => accepted,
            () = &mut signal => break,
        };
        let admitted = match policy.admission.admit(remote.ip()) {
            Ok(admitted) => admitted,
            Err(refusal) => {
                metrics::counter!("auditlog_http_connections_refused_total", "scope" => refusal.label())
                    .increment(1);
                // Dropping the stream closes it; nothing has been read.
                drop(stream);
                continue;
            }
        };
        let stream = AdmittedStream::new(stream, admitted);
        tokio::spawn(serve_connection(
            stream,
            remote,
            router.clone(),
            policy.clone(),
            signal_tx.clone(),
            close_rx.clone(),
        ));
    }
    drop(signal_rx);
    drop(close_rx);
    drop(listener);
    close_tx.closed().await;
    Ok(())
}

async fn serve_connection(
    stream: AdmittedStream,
    remote: SocketAddr,
    router: Router,
    policy: ConnectionPolicy,
    signal_tx: watch::Sender<()>,
    close_rx: watch::Receiver<()>,
) {
    let activity = Arc::new(Activity::default());
    let requests = activity.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // What `into_make_service_with_connect_info` did: the per-IP rate
        // limit and `client_ip` read the peer from here.
        request.extensions_mut().insert(ConnectInfo(remote));
        let in_flight = requests.start();
        let call = router.clone().oneshot(request);
        async move {
            let response = call.await;
            drop(in_flight);
            Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(policy.header_read_timeout);
    let mut connection = pin!(
        builder
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades()
    );
    let mut shutdown = pin!(signal_tx.closed().fuse());
    let mut idle = pin!(idle::expired(activity, policy.keep_alive_timeout).fuse());
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    // Header-read timeouts, resets and malformed requests: routine.
                    tracing::debug!(error = %error, "connection ended with an error");
                }
                break;
            }
            () = &mut shutdown => connection.as_mut().graceful_shutdown(),
            () = &mut idle => connection.as_mut().graceful_shutdown(),
        }
    }
    drop(close_rx);
}
