//! `/metrics` in Prometheus' text format (`metrics` with `metrics-exporter-prometheus`),
//! for a scraper holding `ADMIN_TOKEN`: requests by route and status with their latency,
//! reservations, sales, payouts (counted where they happen), and, read when scraped, the mail
//! queue's depth and the database pools.

use app::AppError;
use app::ssr::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Latency buckets, in seconds: from a cached read to a slow payment.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// How often histogram samples are folded into their buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The process's recorder, installed the first time it is asked for (one per process: several
/// servers in one test process share it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_string()), LATENCY_BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder installed first (a library's, in tests) leaves ours unused but
        // harmless; the handle still renders what it records.
        let _ = metrics::set_global_recorder(recorder);
        // Histogram samples wait in buffers until they are folded into their buckets: without
        // this, a node nobody scrapes would keep every request's latency in memory.
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            })
            .expect("the metrics upkeep thread starts");
        handle
    })
}

/// The route a request is counted under: its path with ids and file names replaced, so that
/// the labels stay few whatever addresses clients make up; anything not found is `unmatched`.
pub fn route_label(path: &str, status: StatusCode) -> String {
    if status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED {
        return "unmatched".to_string();
    }
    if path.starts_with("/pkg/") {
        return "/pkg/{file}".to_string();
    }
    let segments: Vec<&str> = path
        .split('/')
        .map(|segment| {
            let id_like =
                segment.len() >= 16 && segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            if id_like { "{id}" } else { segment }
        })
        .collect();
    let route = segments.join("/");
    // Only addresses the server knows get here, but keep a label bounded all the same.
    route.chars().take(80).collect()
}

/// The method as a label without allocating; methods nobody routes are `other`.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts every request and times it, by method, route and status.
pub async fn record(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    let status = response.status();
    let route = route_label(&path, status);
    let labels = [
        ("method", metrics::SharedString::const_str(method)),
        ("route", metrics::SharedString::from(route)),
        (
            "status",
            metrics::SharedString::from(status.as_u16().to_string()),
        ),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: bearer `ADMIN_TOKEN` only (401 otherwise, and always without the setting).
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = crate::api::admin::bearer(&headers);
    if !token.is_some_and(|t| app::ssr::services::admin::is_admin_token(&state.settings, t)) {
        return AppError::Unauthenticated.into_response();
    }
    let db = &state.db;
    if let Ok(mut conn) = db.read.acquire().await
        && let Ok(waiting) = app::ssr::storage::outbox::count_waiting(&mut conn).await
    {
        metrics::gauge!("ticketing_mail_queue_depth").set(waiting as f64);
    }
    for (name, pool) in [("read", &db.read), ("write", &db.write)] {
        let (size, idle) = (pool.size() as f64, pool.num_idle() as f64);
        metrics::gauge!("ticketing_db_connections", "pool" => name, "state" => "idle").set(idle);
        metrics::gauge!("ticketing_db_connections", "pool" => name, "state" => "busy")
            .set(size - idle);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle().render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_labelled_by_their_shape_not_their_ids() {
        let ok = StatusCode::OK;
        assert_eq!(
            route_label("/api/tickets/0190f1d2-7c3a-7d4e-8f00-000000000000", ok),
            "/api/tickets/{id}"
        );
        assert_eq!(
            route_label(
                "/api/admin/users/0190F1D27C3A7D4E8F00000000000000/suspend",
                ok
            ),
            "/api/admin/users/{id}/suspend"
        );
        assert_eq!(route_label("/pkg/ticketing.wasm", ok), "/pkg/{file}");
        assert_eq!(route_label("/", ok), "/");
        assert_eq!(
            route_label("/made/up/path", StatusCode::NOT_FOUND),
            "unmatched"
        );
        assert_eq!(route_label(&"/x".repeat(100), ok).chars().count(), 80);
    }
}
