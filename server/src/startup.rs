//! Building the application: database, sessions, routes and middleware, bound to a socket.

use crate::sessions::Sessions;
use crate::{Config, api, assets, security};
use anyhow::Context;
use app::ssr::clock::{SharedClock, SystemClock};
use app::ssr::payments::PaymentGateway;
use app::ssr::{AppState, Db};
use app::{App, shell};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Sessions end after this long without activity.
const SESSION_IDLE_DAYS: i64 = 14;

/// The application state for a command that works on the database without serving it (the
/// demo seed, tests): the settings from `config`, and the test-mode gateway, so nothing is charged.
pub fn offline_state(config: &Config, db: Db, clock: SharedClock) -> anyhow::Result<AppState> {
    let settings = config.settings(config.site_addr);
    let mailer = config.mailer(&settings.public_url)?;
    Ok(AppState::new(
        db,
        clock,
        settings,
        app::ssr::payments::Gateway::test_mode(),
        mailer,
        leptos_options(config, config.site_addr)?,
        // Commands sign no links.
        Default::default(),
    ))
}

/// The Leptos options from the workspace's `[[workspace.metadata.leptos]]`, the same section
/// cargo-leptos reads, compiled in so that the binary needs no `Cargo.toml` beside it; `LEPTOS_*`
/// variables override it as usual. Where the site's files are and the address it is served on
/// come from the settings (`LEPTOS_SITE_ROOT`, `LEPTOS_SITE_ADDR`), which read the same variables.
pub fn leptos_options(config: &Config, site_addr: SocketAddr) -> anyhow::Result<LeptosOptions> {
    let mut options = leptos::config::get_config_from_str(include_str!("../../Cargo.toml"))
        .context("the workspace's Leptos metadata cannot be read")?;
    options.site_root = config.site_root.as_str().into();
    options.site_addr = site_addr;
    // Pages load the front end from a folder named by its content hash, kept by browsers for good.
    options.site_pkg_dir = crate::assets::pkg_dir().into();
    Ok(options)
}

pub struct Application {
    listener: TcpListener,
    limits: crate::serve::Limits,
    router: Router,
    state: AppState,
    sweeper: tokio::task::JoinHandle<()>,
    /// The mail worker (unless `MAIL_POLL` is 0), the payout job and the refund job of cancelled
    /// events (unless `PAYOUT_POLL` is 0).
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Opens the database (running migrations), binds the listener and assembles the router.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        Application::build_with_clock(config, std::sync::Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], telling the time by `clock` (tests pass a manual one).
    pub async fn build_with_clock(
        config: Config,
        clock: SharedClock,
    ) -> anyhow::Result<Application> {
        let db = Db::connect(&config.database_url).await?;
        let session_store = crate::sessions::Sessions::open(&db).await?;

        let listener = TcpListener::bind(config.site_addr)
            .await
            .with_context(|| format!("failed to listen on {}", config.site_addr))?;
        let bound = listener
            .local_addr()
            .context("failed to read the bound address")?;

        let leptos_options = leptos_options(&config, bound)?;
        let settings = config.settings(bound);
        if !app::ssr::payments::stripe::is_known_currency(&settings.currency) {
            anyhow::bail!(
                "CURRENCY `{}` is not an ISO 4217 currency code (such as usd, eur or gbp)",
                settings.currency
            );
        }
        let gateway = crate::payments::gateway(&config)?;
        if gateway.is_test_mode() {
            tracing::warn!("no STRIPE_SECRET_KEY: payments run in test mode, no real money moves");
        }
        let mailer = config.mailer(&settings.public_url)?;
        tracing::info!(mail = %mailer.describe(), "mail");
        // What one node signs, every node of the site accepts, before and after a restart.
        let error_link_key =
            app::ssr::services::site_keys::error_link_key(&db, config.secret_key.as_deref())
                .await?;
        let state = AppState::new(
            db,
            clock,
            settings,
            gateway,
            mailer,
            leptos_options,
            error_link_key,
        );

        // Orders that lapsed while the server was down are expired before it serves anything.
        let system = app::ssr::Ctx::system(&state);
        let expired = app::ssr::services::orders::expire_orders(&system)
            .await
            .map_err(|err| anyhow::anyhow!("failed to expire lapsed orders: {err:?}"))?;
        if expired > 0 {
            tracing::info!(count = expired, "expired orders that lapsed while stopped");
        }

        // Payments a crash or an unreachable provider left in flight are finished now, with the
        // idempotency keys they were started with.
        let resumed = app::ssr::services::payments::resume_unfinished_payments(&system)
            .await
            .map_err(|err| anyhow::anyhow!("failed to look for unfinished payments: {err:?}"))?;
        if resumed > 0 {
            tracing::info!(count = resumed, "finishing payments left in flight");
        }
        tokio::task::spawn_blocking(app::ssr::passwords::warm_up);
        let mut workers = Vec::new();
        tokio::spawn(hourly_cleanup(session_store.clone(), system.clone()));
        // The write-ahead log is copied into the database beside the writer, not by it.
        workers.extend(
            state
                .db
                .start_checkpoints(std::time::Duration::from_millis(250))
                .await,
        );
        // After a burst, what it made the server open is closed again once requests stop.
        workers.push(tokio::spawn(crate::memory::give_back_when_quiet(
            state.clone(),
        )));
        // Then about every second.
        let sweeper = tokio::spawn(app::ssr::services::orders::run_expiry_sweeper(
            system,
            std::time::Duration::from_secs(1),
        ));

        if config.mail_poll > 0 {
            workers.push(tokio::spawn(app::ssr::services::mail::run_mail_worker(
                app::ssr::Ctx::system(&state),
                std::time::Duration::from_millis(config.mail_poll as u64),
            )));
        }
        if config.payout_poll > 0 {
            workers.push(tokio::spawn(app::ssr::services::payouts::run_payout_job(
                app::ssr::Ctx::system(&state),
                std::time::Duration::from_millis(config.payout_poll as u64),
            )));
            // Refunds of cancelled events move money the same way: on the same setting.
            workers.push(tokio::spawn(
                app::ssr::services::cancellation::run_refund_job(
                    app::ssr::Ctx::system(&state),
                    std::time::Duration::from_millis(config.payout_poll as u64),
                ),
            ));
        }

        // Live ticket changes for /api/tickets/stream, read from the event log four times a second
        // while anyone listens (so changes made on other nodes arrive too).
        workers.push(tokio::spawn(app::ssr::services::feed::run_ticket_feed(
            app::ssr::Ctx::system(&state),
            state.ticket_feed.clone(),
            std::time::Duration::from_millis(250),
        )));

        // Which wasm chunks each lazy page needs, for the preload links in its `<head>`.
        if let Some(manifest) = crate::assets::find("/pkg/__wasm_split_manifest.json") {
            let json = std::str::from_utf8(manifest.raw).context("the split manifest")?;
            app::ssr::split_manifest::set(json).context("the split manifest")?;
        }

        let router = router(state.clone(), session_store);
        tracing::info!(address = %bound, public_url = %state.settings.public_url, "ticketing listening");
        Ok(Application {
            listener,
            limits: config.serve_limits(),
            router,
            state,
            sweeper,
            workers,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, lets in-flight requests finish, then closes the database.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            listener,
            limits,
            router,
            state,
            sweeper,
            workers,
        } = self;
        crate::serve::serve(listener, router, limits, shutdown).await;
        // Payments under way finish before the database closes.
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            state.payments.settle_all(),
        )
        .await;
        sweeper.abort();
        for worker in workers {
            worker.abort();
        }
        state.db.close().await;
        Ok(())
    }
}

fn router(state: AppState, session_store: Sessions) -> Router {
    // Counters recorded before the recorder exists would be lost.
    crate::metrics::handle();
    let sessions = SessionManagerLayer::new(session_store)
        .with_name(crate::page_cache::SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.settings.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(
            SESSION_IDLE_DAYS,
        )));

    let leptos_context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let render_shell = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };

    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::scrape))
        .nest("/api", api::router())
        // `nest` leaves the bare `/api/` to the pages; it belongs to the API's 404.
        .route("/api/", any(not_found_in_envelope))
        .route("/media/{name}", get(crate::media::serve))
        .route(
            "/organise/{id}/image",
            axum::routing::post(crate::media::upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::media::UPLOAD_BODY_LIMIT,
            )),
        )
        .route(
            "/orders/{id}/checkout-return",
            get(crate::payments::checkout_return),
        )
        // Server functions are registered one by one with the page routes; this catches the rest.
        .route("/_fn/{*name}", any(not_found_in_envelope))
        .leptos_routes_with_context(&state, route_list(), leptos_context, render_shell)
        .fallback(fallback);
    with_layers(routes, &state, sessions).with_state(state)
}

/// The request's path: every request passes these layers in this order, outermost first, and
/// each does one thing. `docs/ARCHITECTURE.md` walks the list.
fn with_layers(
    routes: Router<AppState>,
    state: &AppState,
    sessions: SessionManagerLayer<Sessions>,
) -> Router<AppState> {
    use axum::middleware::{from_fn, from_fn_with_state};
    routes.layer(
        tower::ServiceBuilder::new()
            // 1. A span for the request, and its status and duration in the log.
            .layer(TraceLayer::new_for_http())
            // 2. Counted and timed for /metrics.
            .layer(from_fn(crate::metrics::record))
            // 3. The kept-page fast path: the home page without a session and `GET /api/tickets`,
            //    answered from what was kept of them; also settles the one choice of encoding.
            .layer(from_fn_with_state(state.clone(), crate::page_cache::hot))
            // 4. Pages and JSON travel compressed as the client accepts (the embedded assets come
            //    compressed ahead of time, and the live stream never is).
            .layer(tower_http::compression::CompressionLayer::new())
            // 5. Cross-site state changes refused, unsigned error links dropped; on the way out,
            //    refusals put in the error envelope and the security headers added.
            .layer(from_fn_with_state(state.clone(), security::guard))
            // 6. Server functions: their body limit, and plain form posts answered with a redirect
            //    whose error link is signed.
            .layer(from_fn_with_state(state.clone(), security::form_posts))
            // 7. The cache-miss render: a home page the fast path did not have is rendered and kept.
            .layer(from_fn_with_state(state.clone(), crate::page_cache::keep))
            // 8. Sessions (tower-sessions, in the application's database).
            .layer(sessions)
            // 9. Activity noted on the session; answers given with one are marked private.
            .layer(from_fn_with_state(state.clone(), security::in_session))
            // 10. `/admin` and `/api/admin` for admins only.
            .layer(from_fn_with_state(state.clone(), api::admin::gate))
            // 11. The page render timeout: a page that stalls is rendered again, then refused.
            .layer(from_fn(crate::render_limit::bound_page_render)),
    )
}

/// The app's routes, listed once per process. Listing them runs the whole app with resource
/// loading suppressed by a process-wide flag (leptos-rs/leptos#4773): a page whose resource is
/// first polled meanwhile, on another server in the same process (several nodes, the tests),
/// would never finish. The list never changes, so one listing serves every start.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// 404 in the envelope, for addresses under `/api` and `/_fn` that lead nowhere.
async fn not_found_in_envelope() -> app::AppError {
    app::AppError::NotFound
}

/// 200 when the database answers a query.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(_) => (StatusCode::OK, "ok").into_response(),
        Err(err) => app::AppError::from(err).into_response(),
    }
}

/// Site assets (embedded, or from the site folder in development), else the app's 404 page.
async fn fallback(State(state): State<AppState>, req: Request<Body>) -> Response {
    let req = match assets::serve(&state, req).await {
        Ok(response) => return response,
        Err(req) => req,
    };
    let render = leptos_axum::render_app_to_stream_with_context(
        {
            let state = state.clone();
            move || provide_context(state.clone())
        },
        {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        },
    );
    render(req).await
}

/// Once an hour: removes expired sessions, and the tokens, mail requests and sign-in failures
/// no rule looks at any more.
async fn hourly_cleanup(store: Sessions, ctx: app::ssr::Ctx) {
    use tower_sessions::session_store::ExpiredDeletion;
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(3600));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(err) = store.delete_expired().await {
            tracing::warn!(error = %err, "expired-session cleanup failed; retrying in an hour");
        }
        if let Err(err) = app::ssr::services::accounts::prune(&ctx).await {
            tracing::warn!(error = ?err, "account cleanup failed; retrying in an hour");
        }
    }
}
