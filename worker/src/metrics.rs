//! The process's Prometheus recorder, and the worker's own `/metrics` listener.
//!
//! One recorder per process (the `metrics` facade is global): the first caller
//! installs it, later ones share it (tests start several services in one
//! process). The `auditlog` service renders it on its metrics port; the worker
//! binary, which has no other HTTP surface, serves it here with hyper alone
//! (no web framework), with the same hygiene as the service's ports: a
//! header-read timeout, no keep-alive, and a cap on open connections.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Connections the listener serves at once: scrapers are few.
const MAX_CONNECTIONS: usize = 64;
/// How long a scraper may take to send its request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's Prometheus handle, installing the recorder on first use.
pub fn recorder() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(handle) => Some(handle),
            Err(error) => {
                tracing::warn!(error = %error, "metrics recorder not installed; /metrics will be empty");
                None
            }
        })
        .as_ref()
}

/// Serves `GET /metrics` on `address` until the process ends; returns the
/// bound address (port 0 picks one).
pub async fn serve(address: SocketAddr) -> anyhow::Result<SocketAddr> {
    recorder();
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} for /metrics"))?;
    let bound = listener.local_addr()?;
    tokio::spawn(accept_loop(listener));
    Ok(bound)
}

async fn accept_loop(listener: TcpListener) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(error = %error, "the /metrics listener cannot accept");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Over the cap: close at once, as the service's ports do.
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue;
        };
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), hyper::service::service_fn(answer));
            // A scraper that hangs up early is not worth a log line.
            let _ = connection.await;
            drop(slot);
        });
    }
}

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let found = request.method() == hyper::Method::GET && request.uri().path() == "/metrics";
    let (status, body) = match (found, recorder()) {
        (false, _) => (StatusCode::NOT_FOUND, String::new()),
        (true, Some(handle)) => (StatusCode::OK, handle.render()),
        (true, None) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable".to_owned(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    Ok(response)
}
