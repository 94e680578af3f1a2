//! Request ids: every response carries an `x-request-id` header, every log line
//! of a request carries it as `request_id`, and events recorded by a request
//! whose caller sent one store it as `context.requestId`.
//!
//! tower-http sets (a UUID when the caller sent none) and propagates the header;
//! this module only decides whether the caller's value is usable and remembers
//! that the caller chose it, because a generated id means nothing to the event's
//! producer and is not stored in events.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest caller-chosen id kept; longer ones are replaced by a generated id.
pub(crate) const MAX_REQUEST_ID_LEN: usize = 128;

pub(crate) use crate::graphql::CallerRequestId;

/// Keeps a caller's id if it is 1 to [`MAX_REQUEST_ID_LEN`] visible ASCII
/// characters and drops it otherwise (so a generated one replaces it: log
/// lines and headers never carry arbitrary bytes from a client).
pub(crate) async fn accept_caller_id(mut request: Request, next: Next) -> Response {
    if let Some(value) = request.headers().get(&X_REQUEST_ID) {
        match usable(value) {
            Some(id) => {
                request.extensions_mut().insert(CallerRequestId(id));
            }
            None => {
                request.headers_mut().remove(&X_REQUEST_ID);
            }
        }
    }
    next.run(request).await
}

fn usable(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let fits = !text.is_empty()
        && text.len() <= MAX_REQUEST_ID_LEN
        && text.bytes().all(|byte| byte.is_ascii_graphic());
    fits.then(|| text.to_owned())
}

/// Generates a UUID for requests without a (usable) id.
pub(crate) fn set_layer() -> SetRequestIdLayer<MakeRequestUuid> {
    SetRequestIdLayer::new(X_REQUEST_ID, MakeRequestUuid)
}

/// Copies the request's id onto the response.
pub(crate) fn propagate_layer() -> PropagateRequestIdLayer {
    PropagateRequestIdLayer::new(X_REQUEST_ID)
}

/// The request's id for log spans (set by [`set_layer`] before tracing runs).
pub(crate) fn of(request: &Request) -> &str {
    request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_visible_ascii_up_to_the_limit() {
        assert_eq!(
            usable(&HeaderValue::from_static("req-42_a.b:c")),
            Some("req-42_a.b:c".to_owned())
        );
        let longest = "a".repeat(MAX_REQUEST_ID_LEN);
        assert!(usable(&HeaderValue::from_str(&longest).unwrap()).is_some());
        let too_long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
        assert!(usable(&HeaderValue::from_str(&too_long).unwrap()).is_none());
        assert!(usable(&HeaderValue::from_static("has space")).is_none());
        assert!(usable(&HeaderValue::from_static("")).is_none());
        assert!(usable(&HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()).is_none());
    }
}
