//! The HTTP server loop: hyper with the protections `axum::serve` leaves out.
//!
//! - A client must send a request's headers within [`Limits::header_timeout`]; the same clock
//!   runs while a kept-alive connection sits idle, so an idle connection is closed after it too.
//! - A request's body must arrive whole within [`Limits::body_timeout`] of its headers (three
//!   times that for a page's form post), however it trickles in: else the request is answered
//!   408 and its connection closed.
//! - At most [`Limits::max_connections`] connections are open at once, below the process's
//!   file limit, so `accept` never runs out of descriptors. When they are all taken, one that
//!   is idle (no request in progress) or only waiting for bodies to arrive is closed to make
//!   room (`Activity::turn_to_make_room`): a slow or idle client cannot hold a slot another
//!   client needs, and a visitor who has just connected is not closed in its place, nor for a
//!   flood of connections opened after theirs. When no connection may make room, the new one
//!   waits until one can. Requests on open connections are answered throughout.
//! - Shutdown stops accepting, lets requests in progress finish (up to a grace period) and
//!   closes idle connections at once.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore, watch};
use tower::ServiceExt;

/// How long requests in progress may take to finish once shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// Descriptors kept free for the database, logs and the connection being accepted.
const RESERVED_DESCRIPTORS: u64 = 64;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    /// How long a request body may take to arrive whole (a form post's: three times as long).
    pub body_timeout: Duration,
}

impl Limits {
    /// `requested` connections (0: as many as the file limit allows), capped below the
    /// process's file limit.
    pub fn new(requested: usize, header_timeout: Duration, body_timeout: Duration) -> Limits {
        let ceiling = file_limit()
            .map(|limit| limit.saturating_sub(RESERVED_DESCRIPTORS).max(16))
            .unwrap_or(1024) as usize;
        let max_connections = if requested == 0 {
            ceiling
        } else {
            requested.min(ceiling)
        };
        Limits {
            max_connections,
            header_timeout,
            body_timeout,
        }
    }

    /// How long the body of a request for `path` may take to arrive: a page's form post (a
    /// server function, up to 64 KiB) three times as long as anything else (up to 16 KiB).
    fn body_deadline(&self, path: &str) -> Duration {
        if path.starts_with("/_fn/") {
            self.body_timeout * 3
        } else {
            self.body_timeout
        }
    }
}

/// The soft limit on open files (`ulimit -n`), if the platform tells.
fn file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct it is given.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
        (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// What a connection is doing, shared by its task, its requests and the accept loop.
struct Activity {
    /// Requests in progress (not yet answered).
    busy: AtomicUsize,
    /// Of those, the ones whose bodies have not yet arrived whole.
    receiving: AtomicUsize,
    /// When it last moved on ([`moment`]): was accepted, began a request or finished one.
    moved: std::sync::atomic::AtomicU64,
    /// Whether it has begun a request yet.
    asked: std::sync::atomic::AtomicBool,
}

/// How long a new connection that has not yet sent a request is left alone while others can
/// make room: a visitor's request takes a moment to arrive, and the server a moment to read it.
const NEW_CONNECTION_GRACE_MS: u64 = 2_000;

/// How long a new connection is never closed to make room, even when nothing else can: the
/// moment a busy server needs to read a request that has already arrived.
const NEW_CONNECTION_SETTLE_MS: u64 = 250;

/// Milliseconds since the process first asked: a clock for telling which connection moved on
/// longest ago.
fn moment() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
}

impl Activity {
    fn new() -> Activity {
        Activity {
            busy: AtomicUsize::new(0),
            receiving: AtomicUsize::new(0),
            moved: std::sync::atomic::AtomicU64::new(moment()),
            asked: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// In which turn it makes room, if it may (lower first), and then which goes first within
    /// the turn (lower first): first idle connections that have asked for something before or
    /// have been silent a while (kept-alive, or sockets opened and left), the longest idle
    /// first; then connections only waiting for bodies to arrive (closing them loses no work),
    /// the longest waiting first; and only then connections that have just opened and not yet
    /// sent their request, the newest first and none in its first [`NEW_CONNECTION_SETTLE_MS`].
    /// So a visitor who has just connected is not closed for a client that has been trickling
    /// for seconds, nor for a flood of connections opened after theirs.
    fn turn_to_make_room(&self, now: u64) -> Option<(u8, u64)> {
        let moved = self.moved.load(Ordering::Acquire);
        let silent = now.saturating_sub(moved);
        if self.idle() {
            if self.asked.load(Ordering::Acquire) || silent >= NEW_CONNECTION_GRACE_MS {
                Some((0, moved))
            } else if silent >= NEW_CONNECTION_SETTLE_MS {
                Some((2, u64::MAX - moved))
            } else {
                None
            }
        } else if self.only_receiving() {
            Some((1, moved))
        } else {
            None
        }
    }

    fn moved_on(&self) {
        self.moved.store(moment(), Ordering::Release);
    }

    /// Idle, or only waiting for bodies: closing it loses no work.
    fn may_make_room(&self) -> bool {
        self.idle() || self.only_receiving()
    }

    /// Nothing in progress.
    fn idle(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0
    }

    /// Every request in progress is still waiting for its body: closing the connection loses
    /// no work, only a request its client has not finished sending.
    fn only_receiving(&self) -> bool {
        let busy = self.busy.load(Ordering::Acquire);
        busy > 0 && self.receiving.load(Ordering::Acquire) >= busy
    }
}

/// One request counted in progress on its connection until dropped (answered, or dropped with
/// its connection), also when a stream of an HTTP/2 connection is reset midway.
struct Busy(Arc<Activity>);

impl Busy {
    fn begin(activity: &Arc<Activity>) -> Busy {
        activity.busy.fetch_add(1, Ordering::AcqRel);
        activity.asked.store(true, Ordering::Release);
        activity.moved_on();
        Busy(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
        self.0.moved_on();
    }
}

/// A body counted as still arriving until it has arrived whole, failed, or been dropped.
struct Receiving(Arc<Activity>);

impl Drop for Receiving {
    fn drop(&mut self) {
        self.0.receiving.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The body of a request was still arriving at its deadline.
#[derive(Debug)]
pub struct BodyTooSlow;

impl std::fmt::Display for BodyTooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTooSlow {}

/// A request body that must arrive whole by a deadline, however slowly its bytes trickle in
/// (a pause-based timeout never fires for a client sending a byte a second).
struct DeadlineBody<B> {
    inner: B,
    /// When the body must have arrived by.
    deadline: tokio::time::Instant,
    /// Set the first time the body is waited for (most bodies have arrived by then).
    timer: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    /// Held while the body is still arriving.
    receiving: Option<Receiving>,
}

impl<B: hyper::body::Body> DeadlineBody<B> {
    fn new(inner: B, within: Duration, activity: &Arc<Activity>) -> DeadlineBody<B> {
        let receiving = (!inner.is_end_stream()).then(|| {
            activity.receiving.fetch_add(1, Ordering::AcqRel);
            Receiving(activity.clone())
        });
        DeadlineBody {
            inner,
            deadline: tokio::time::Instant::now() + within,
            timer: None,
            receiving,
        }
    }
}

impl<B> hyper::body::Body for DeadlineBody<B>
where
    B: hyper::body::Body<Data = hyper::body::Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = hyper::body::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        use std::task::Poll;
        let this = &mut *self;
        let polled = std::pin::Pin::new(&mut this.inner).poll_frame(cx);
        if this.receiving.is_none() {
            return polled.map_err(Into::into);
        }
        match polled {
            Poll::Ready(Some(Ok(frame))) => {
                if hyper::body::Body::is_end_stream(&this.inner) {
                    this.receiving = None;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => {
                this.receiving = None;
                Poll::Ready(other.map(|result| result.map_err(Into::into)))
            }
            Poll::Pending => match this
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(this.deadline)))
                .as_mut()
                .poll(cx)
            {
                Poll::Ready(()) => {
                    this.receiving = None;
                    Poll::Ready(Some(Err(Box::new(BodyTooSlow))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// One open connection as the accept loop sees it.
struct Open {
    activity: Arc<Activity>,
    close: Arc<Notify>,
    /// Already asked to close (so the next call picks another).
    closing: bool,
}

/// Requests begun since the process started, and those not yet answered, over every server in
/// the process: how [`crate::memory`] tells a quiet moment.
static REQUESTS_BEGUN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static REQUESTS_IN_PROGRESS: AtomicUsize = AtomicUsize::new(0);

pub fn requests_begun() -> u64 {
    REQUESTS_BEGUN.load(Ordering::Acquire)
}

pub fn requests_in_progress() -> usize {
    REQUESTS_IN_PROGRESS.load(Ordering::Acquire)
}

/// One request counted in progress until dropped, also when its client hangs up mid-answer.
struct InProgress;

impl InProgress {
    fn begin() -> InProgress {
        REQUESTS_BEGUN.fetch_add(1, Ordering::AcqRel);
        REQUESTS_IN_PROGRESS.fetch_add(1, Ordering::AcqRel);
        InProgress
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        REQUESTS_IN_PROGRESS.fetch_sub(1, Ordering::AcqRel);
    }
}

#[derive(Default)]
struct Registry {
    next: std::sync::atomic::AtomicU64,
    open: Mutex<BTreeMap<u64, Open>>,
}

impl Registry {
    fn add(&self, activity: Arc<Activity>, close: Arc<Notify>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(
            id,
            Open {
                activity,
                close,
                closing: false,
            },
        );
        id
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Asks one connection to close that may make room (see [`Activity::turn_to_make_room`]).
    /// Returns whether one was.
    fn close_oldest_idle(&self) -> bool {
        let mut open = self.lock();
        let now = moment();
        let chosen = open
            .iter()
            .filter(|(_, c)| !c.closing)
            .filter_map(|(id, c)| Some((c.activity.turn_to_make_room(now)?, *id)))
            .min()
            .map(|(_, id)| id);
        match chosen.and_then(|id| open.get_mut(&id)) {
            Some(chosen) => {
                chosen.closing = true;
                chosen.close.notify_one();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Open>> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Answers one request of a connection: counted on the connection while in progress (also if
/// it is dropped midway, as an HTTP/2 stream reset does), its body held to its deadline.
fn answer<B>(
    activity: &Arc<Activity>,
    router: &Router,
    limits: Limits,
    req: hyper::Request<B>,
) -> impl Future<Output = Result<axum::response::Response, std::convert::Infallible>> + use<B>
where
    B: hyper::body::Body<Data = hyper::body::Bytes> + Send + Unpin + 'static,
    B::Error: Into<axum::BoxError>,
{
    let busy = Busy::begin(activity);
    let within = limits.body_deadline(req.uri().path());
    let version = req.version();
    let req = req.map(|body| axum::body::Body::new(DeadlineBody::new(body, within, activity)));
    let router = router.clone();
    let counted = InProgress::begin();
    async move {
        let mut response = router.oneshot(req).await;
        if let Ok(response) = &mut response
            && response.status() == axum::http::StatusCode::REQUEST_TIMEOUT
            && version <= axum::http::Version::HTTP_11
        {
            // What is left of a body too slow to arrive is not waited for.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        drop(busy);
        drop(counted);
        response
    }
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let registry = Arc::new(Registry::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .keep_alive_interval(Some(limits.header_timeout))
        .keep_alive_timeout(limits.header_timeout);

    tokio::pin!(shutdown);
    tracing::info!(
        max_connections = limits.max_connections,
        "accepting connections"
    );
    loop {
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of descriptors or memory: back off briefly instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                // Full: make room by closing an idle connection, and keep trying while every
                // connection is busy (one may fall idle without ending).
                let mut permit = None;
                while permit.is_none() {
                    registry.close_oldest_idle();
                    tokio::select! {
                        () = &mut shutdown => break,
                        acquired = slots.clone().acquire_owned() => match acquired {
                            Ok(acquired) => permit = Some(acquired),
                            Err(_) => break,
                        },
                        () = tokio::time::sleep(Duration::from_millis(100)) => {}
                    }
                }
                match permit {
                    Some(permit) => permit,
                    None => break,
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let close = Arc::new(Notify::new());
        let id = registry.add(activity.clone(), close.clone());
        let registry = registry.clone();
        let builder = builder.clone();
        let router = router.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let requests = activity.clone();
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(remote));
                answer(&requests, &router, limits, req)
            });
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let finished = tokio::select! {
                _ = connection.as_mut() => true,
                () = close.notified() => false,
                _ = stop.wait_for(|stopping| *stopping) => false,
            };
            // A connection with no request in progress, or only requests whose bodies have not
            // arrived, is simply closed; one at work on a request finishes it first.
            if !finished && !activity.may_make_room() {
                connection.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
            }
            registry.remove(id);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot until it has closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(all)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt as _, StreamBody};

    /// A route that never answers, and one that reads its body.
    fn router() -> Router {
        Router::new()
            .route(
                "/stall",
                axum::routing::get(std::future::pending::<&'static str>),
            )
            .route(
                "/echo",
                axum::routing::post(|body: axum::body::Body| async move {
                    match axum::body::to_bytes(body, 1024).await {
                        Ok(bytes) => (axum::http::StatusCode::OK, bytes),
                        Err(err) if crate::security::timed_out(&err) => {
                            (axum::http::StatusCode::REQUEST_TIMEOUT, Default::default())
                        }
                        Err(_) => (axum::http::StatusCode::BAD_REQUEST, Default::default()),
                    }
                }),
            )
    }

    fn limits() -> Limits {
        Limits::new(16, Duration::from_secs(15), Duration::from_secs(10))
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_dropped_midway_leaves_its_connection_idle() {
        let activity = Arc::new(Activity::new());
        let request = hyper::Request::get("/stall")
            .body(http_body_util::Empty::<hyper::body::Bytes>::new())
            .unwrap();
        let answering = answer(&activity, &router(), limits(), request);
        // Dropped before it answers, as a reset HTTP/2 stream is.
        let waited = tokio::time::timeout(Duration::from_secs(1), answering).await;
        assert!(waited.is_err());
        assert!(activity.idle(), "no request left counted in progress");
        assert!(activity.may_make_room());
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_still_arriving_at_its_deadline_is_408_and_makes_room_meanwhile() {
        let activity = Arc::new(Activity::new());
        // A first byte, then nothing more.
        let (sender, frames) = tokio::sync::mpsc::channel::<
            Result<hyper::body::Frame<hyper::body::Bytes>, std::convert::Infallible>,
        >(1);
        sender
            .send(Ok(hyper::body::Frame::data(
                hyper::body::Bytes::from_static(b"{"),
            )))
            .await
            .unwrap();
        let body = StreamBody::new(tokio_stream_of(frames));
        let request = hyper::Request::post("/echo").body(body).unwrap();
        let answering = tokio::spawn(answer(&activity, &router(), limits(), request));
        tokio::task::yield_now().await;
        assert!(activity.only_receiving(), "only waiting for its body");
        let response = answering.await.unwrap().unwrap();
        assert_eq!(response.status(), axum::http::StatusCode::REQUEST_TIMEOUT);
        assert_eq!(response.headers()[axum::http::header::CONNECTION], "close");
        assert!(activity.idle());
        drop(sender);
        let _ = response.into_body().collect().await;
    }

    #[test]
    fn a_visitor_who_has_just_connected_is_the_last_to_make_room() {
        let now = moment();
        let state = |busy: usize, receiving: usize, asked: bool| {
            let activity = Activity::new();
            activity.busy.store(busy, Ordering::Release);
            activity.receiving.store(receiving, Ordering::Release);
            activity.asked.store(asked, Ordering::Release);
            activity.turn_to_make_room(now)
        };
        let kept_alive = state(0, 0, true);
        let trickling = state(1, 1, true);
        let just_connected = {
            let activity = Activity::new();
            activity.turn_to_make_room(now + NEW_CONNECTION_SETTLE_MS + 500)
        };
        assert_eq!(
            state(0, 0, false),
            None,
            "a connection is never closed in the moment its request is being read"
        );
        assert!(
            kept_alive < trickling,
            "idle before a body that is arriving"
        );
        assert!(
            trickling < just_connected,
            "a body that is arriving before a new visitor"
        );
        assert_eq!(
            state(1, 0, true),
            None,
            "a request being answered is never cut"
        );
        assert_eq!(
            state(2, 1, true),
            None,
            "nor one beside a body still arriving"
        );
        // Of two visitors who have just connected, the later one goes first: a flood of new
        // connections does not push out the visitor who came before it.
        let earlier = Activity::new();
        let later = Activity::new();
        later.moved.store(
            earlier.moved.load(Ordering::Acquire) + 100,
            Ordering::Release,
        );
        let at = now + NEW_CONNECTION_SETTLE_MS + 500;
        assert!(later.turn_to_make_room(at) < earlier.turn_to_make_room(at));
        // A socket opened and left silent past the grace is an idle one like any other.
        let left = Activity::new();
        assert_eq!(
            left.turn_to_make_room(now + NEW_CONNECTION_GRACE_MS)
                .map(|(turn, _)| turn),
            Some(0)
        );
    }

    /// The frames a channel receives, as a stream.
    fn tokio_stream_of<T>(
        mut frames: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures::Stream<Item = T> + Unpin {
        Box::pin(futures::stream::poll_fn(move |cx| frames.poll_recv(cx)))
    }
}
