//! The page render timeout: the innermost layer, right around the pages it bounds.

use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// How long a page may take to render before it is rendered again.
pub const PAGE_RENDER_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A page (a `GET` or `HEAD` outside `/api`, `/_fn` and the assets) that has not rendered within
/// [`PAGE_RENDER_LIMIT`] is rendered once more, and after a second stall answered 503.
///
/// Why: Leptos' `<Suspense>` can, rarely and under load, lose the wake-up that tells it its last
/// resource has loaded (a lost-wakeup race upstream, leptos-rs/leptos#4647 and #4851; 0.8.23 fixed
/// the common path). An async-mode page then never sends its headers and the request hangs until
/// the client gives up. Pages are rendered from what is stored, so rendering one again is safe.
pub async fn bound_page_render(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let page = matches!(*req.method(), Method::GET | Method::HEAD)
        && !path.starts_with("/api/")
        && !path.starts_with("/_fn/")
        && !path.starts_with("/pkg/")
        && path != "/healthz";
    if !page {
        return next.run(req).await;
    }
    let (parts, _) = req.into_parts();
    for attempt in 1..=2 {
        let again = Request::from_parts(parts.clone(), axum::body::Body::empty());
        match tokio::time::timeout(PAGE_RENDER_LIMIT, next.clone().run(again)).await {
            Ok(response) => return response,
            Err(_) => tracing::warn!(
                path = %parts.uri.path(),
                attempt,
                "a page did not render in time; rendering it again"
            ),
        }
    }
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        "This page could not be shown just now. Please try again.",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page whose first render stalls forever, as a lost Suspense wake-up does, and whose
    /// second render answers; and an API route that stalls the same way.
    fn stalling_app() -> (axum::Router, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let renders = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = renders.clone();
        let page = move || {
            let counted = counted.clone();
            async move {
                if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                    std::future::pending::<()>().await;
                }
                "rendered"
            }
        };
        let app = axum::Router::new()
            .route("/tickets/mine", axum::routing::get(page))
            .route(
                "/api/stall",
                axum::routing::get(std::future::pending::<&'static str>),
            )
            .layer(axum::middleware::from_fn(bound_page_render));
        (app, renders)
    }

    #[tokio::test(start_paused = true)]
    async fn a_page_that_stalls_is_rendered_again() {
        use tower::ServiceExt;
        let (app, renders) = stalling_app();
        let request = Request::builder()
            .uri("/tickets/mine")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), axum::http::StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&body[..], b"rendered");
        assert_eq!(renders.load(std::sync::atomic::Ordering::SeqCst), 2);

        // Only pages: an API call is not repeated (it may not be safe to), nor cut short here.
        let api = Request::builder()
            .uri("/api/stall")
            .body(axum::body::Body::empty())
            .unwrap();
        let waited = tokio::time::timeout(PAGE_RENDER_LIMIT * 5, app.oneshot(api)).await;
        assert!(waited.is_err(), "the API route is left alone");
    }
}
