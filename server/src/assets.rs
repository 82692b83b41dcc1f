//! Serving the site's static files: from the binary itself when built with `embed` (the release
//! build), otherwise from the site folder on disk (development with `cargo leptos watch`).

use app::ssr::AppState;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::path::{Component, Path};
use tower::ServiceExt;

/// One embedded file and its precompressed twins.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub etag: &'static str,
    pub raw: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/embedded_assets.rs"));

/// True when the binary carries its own site.
pub fn embedded() -> bool {
    !ASSETS.is_empty()
}

pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.path == path)
}

/// Where pages load the front end from: `pkg/<hash of the whole folder>` in the release binary,
/// whose files under that path never change (cached for a year); plain `pkg` when the site is
/// read from disk (development).
pub fn pkg_dir() -> String {
    if BUNDLE_HASH.is_empty() {
        "pkg".to_string()
    } else {
        format!("pkg/{BUNDLE_HASH}")
    }
}

/// The embedded file a content-addressed path names (`/pkg/<hash>/ticketing.wasm`), when the
/// hash is this binary's.
fn find_hashed(path: &str) -> Option<&'static Asset> {
    if BUNDLE_HASH.is_empty() {
        return None;
    }
    let file = path
        .strip_prefix("/pkg/")?
        .strip_prefix(BUNDLE_HASH)?
        .strip_prefix('/')?;
    find(&format!("/pkg/{file}"))
}

/// Answers `req` with a site file, or hands the request back when there is none.
pub async fn serve(state: &AppState, req: Request<Body>) -> Result<Response, Request<Body>> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(req);
    }
    if embedded() {
        if let Some(asset) = find_hashed(req.uri().path()) {
            return Ok(respond(asset, req.headers(), Caching::Immutable));
        }
        return match find(req.uri().path()) {
            Some(asset) => Ok(respond(asset, req.headers(), Caching::Revalidate)),
            None => Err(req),
        };
    }
    let root = Path::new(state.leptos_options.site_root.as_ref());
    let relative = Path::new(req.uri().path().trim_start_matches('/'));
    let safe = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    if !safe || relative.as_os_str().is_empty() || !root.join(relative).is_file() {
        return Err(req);
    }
    let served = tower_http::services::ServeDir::new(root)
        .precompressed_br()
        .precompressed_gzip()
        .oneshot(req)
        .await;
    match served {
        Ok(response) => Ok(response.into_response()),
        Err(never) => match never {},
    }
}

/// How long a browser may keep a file without asking again.
#[derive(Clone, Copy)]
enum Caching {
    /// A content-hashed name: its bytes never change, so a year, never revalidated.
    Immutable,
    /// A name every build reuses: `/pkg/` files are checked on each visit (by ETag), the rest
    /// (the favicon) kept a day.
    Revalidate,
}

fn respond(asset: &'static Asset, request: &HeaderMap, caching: Caching) -> Response {
    let cache = match caching {
        Caching::Immutable => "public, max-age=31536000, immutable",
        Caching::Revalidate if asset.path.starts_with("/pkg/") => {
            "public, max-age=0, must-revalidate"
        }
        Caching::Revalidate => "public, max-age=86400",
    };
    let not_modified = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == asset.etag || tag.trim() == "*")
        });
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if not_modified {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    use crate::encoding::Encoding;
    let offered: Vec<Encoding> = [
        asset.brotli.map(|_| Encoding::Brotli),
        asset.gzip.map(|_| Encoding::Gzip),
    ]
    .into_iter()
    .flatten()
    .collect();
    let encoding = Encoding::chosen(request, &offered);
    let body = match (encoding, asset.brotli, asset.gzip) {
        (Encoding::Brotli, Some(br), _) => br,
        (Encoding::Gzip, _, Some(gz)) => gz,
        _ => asset.raw,
    };
    encoding.label(&mut headers);
    (StatusCode::OK, headers, body).into_response()
}
