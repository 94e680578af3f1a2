//! The files of `api/viewer/dist`, embedded in the binary at compile time
//! (`rust-embed`; also in debug builds, so tests serve what ships).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use super::ViewerSettings;
use super::headers::{self, IMMUTABLE, NO_CACHE};
use crate::http::state::AppState;

#[derive(RustEmbed)]
#[folder = "viewer/dist/"]
struct Dist;

/// `index.html`, revalidated on every navigation (it names the current assets).
pub(super) fn index(settings: &ViewerSettings, request: &HeaderMap) -> Response {
    let Some(file) = Dist::get("index.html") else {
        // Only a build without `api/viewer/dist` gets here.
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        file.data,
    )
        .into_response();
    headers::apply(response.headers_mut(), settings, request);
    headers::cache(response.headers_mut(), NO_CACHE);
    response
}

/// `GET /assets/{file}`.
pub(super) async fn asset(
    State(state): State<AppState>,
    Path(file): Path<String>,
    request: HeaderMap,
) -> Response {
    let Some(content) = Dist::get(&format!("assets/{file}")) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(&file)),
        )],
        content.data,
    )
        .into_response();
    headers::apply(response.headers_mut(), &state.viewer, &request);
    headers::cache(response.headers_mut(), IMMUTABLE);
    response
}

/// The media type of the few kinds of file a build emits.
fn content_type(file: &str) -> &'static str {
    let extension = file.rsplit_once('.').map_or("", |(_, extension)| extension);
    match extension {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "map" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::{Dist, content_type};

    #[test]
    fn the_build_is_embedded() {
        assert!(Dist::get("index.html").is_some());
    }

    #[test]
    fn scripts_and_styles_have_their_types() {
        assert_eq!(
            content_type("index-abc.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("index-abc.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("noextension"), "application/octet-stream");
    }
}
