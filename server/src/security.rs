//! Request-level protections for every route: refusing cross-site state changes (CSRF) and the
//! security headers that pages carry.

use app::AppError;
use app::ssr::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Refuses a state-changing request that a browser sent on behalf of another site. Browsers
/// label every request with `Sec-Fetch-Site`; older ones are judged by `Origin` (or `Referer`)
/// against our public origin and the `Host` they addressed. Requests carrying none of these are
/// not from a browser, so no ambient cookie can be abused, and pass.
pub async fn reject_cross_site(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if !safe && is_cross_site(req.headers(), state.settings.public_origin()) {
        tracing::warn!(method = %req.method(), path = %req.uri().path(), "refused a cross-site request");
        return AppError::CrossSite.into_response();
    }
    next.run(req).await
}

fn is_cross_site(headers: &HeaderMap, public_origin: &str) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return !matches!(site, "same-origin" | "none");
    }
    let host = text(header::HOST);
    let same = |origin: &str| {
        origin.eq_ignore_ascii_case(public_origin)
            || host.is_some_and(|host| {
                origin
                    .split_once("://")
                    .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host))
            })
    };
    if let Some(origin) = text(header::ORIGIN) {
        return !same(origin);
    }
    if let Some(referer) = text(header::REFERER) {
        let origin_part = referer.split_once("://").map(|(scheme, rest)| {
            let authority = rest.split('/').next().unwrap_or_default();
            format!("{scheme}://{authority}")
        });
        return !origin_part.is_some_and(|o| same(&o));
    }
    false
}

const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Security headers on every response; the content security policy on HTML pages.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if is_html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn judges_origins_like_a_browser_would() {
        let us = "https://tickets.example.org";
        let cases = [
            (headers(&[("sec-fetch-site", "same-origin")]), false),
            (
                headers(&[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://tickets.example.org"),
                ]),
                true,
            ),
            (headers(&[("sec-fetch-site", "same-site")]), true),
            (headers(&[("origin", "https://tickets.example.org")]), false),
            (headers(&[("origin", "https://evil.example")]), true),
            (headers(&[("origin", "null")]), true),
            (
                headers(&[
                    ("origin", "http://localhost:3000"),
                    ("host", "localhost:3000"),
                ]),
                false,
            ),
            (
                headers(&[("referer", "https://tickets.example.org/auth/signin")]),
                false,
            ),
            (headers(&[("referer", "https://evil.example/form")]), true),
            (headers(&[]), false),
        ];
        for (map, expected) in cases {
            assert_eq!(is_cross_site(&map, us), expected, "{map:?}");
        }
    }
}
