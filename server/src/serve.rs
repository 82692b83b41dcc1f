//! The HTTP server loop: hyper with the protections `axum::serve` leaves out.
//!
//! - A client must send a request's headers within [`Limits::header_timeout`]; the same clock
//!   runs while a kept-alive connection sits idle, so an idle connection is closed after it too.
//! - At most [`Limits::max_connections`] connections are open at once, below the process's
//!   file limit, so `accept` never runs out of descriptors. When they are all taken, the oldest
//!   connection with no request in progress is closed to make room (an idle or slow client
//!   cannot hold a slot another client needs); when every one is busy, the new connection waits
//!   until one ends. Requests on open connections are answered throughout.
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
}

impl Limits {
    /// `requested` connections (0: as many as the file limit allows), capped below the
    /// process's file limit.
    pub fn new(requested: usize, header_timeout: Duration) -> Limits {
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

/// One open connection as the accept loop sees it.
struct Open {
    busy: Arc<AtomicUsize>,
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
    fn add(&self, busy: Arc<AtomicUsize>, close: Arc<Notify>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(
            id,
            Open {
                busy,
                close,
                closing: false,
            },
        );
        id
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Asks the oldest connection with no request in progress to close. Returns whether one was.
    fn close_oldest_idle(&self) -> bool {
        let mut open = self.lock();
        match open
            .values_mut()
            .find(|c| !c.closing && c.busy.load(Ordering::Acquire) == 0)
        {
            Some(idle) => {
                idle.closing = true;
                idle.close.notify_one();
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
        let busy = Arc::new(AtomicUsize::new(0));
        let close = Arc::new(Notify::new());
        let id = registry.add(busy.clone(), close.clone());
        let registry = registry.clone();
        let builder = builder.clone();
        let router = router.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let requests = busy.clone();
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(remote));
                let busy = requests.clone();
                busy.fetch_add(1, Ordering::AcqRel);
                let router = router.clone();
                let counted = InProgress::begin();
                async move {
                    let response = router.oneshot(req.map(axum::body::Body::new)).await;
                    busy.fetch_sub(1, Ordering::AcqRel);
                    drop(counted);
                    response
                }
            });
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let finished = tokio::select! {
                _ = connection.as_mut() => true,
                () = close.notified() => false,
                _ = stop.wait_for(|stopping| *stopping) => false,
            };
            // A connection with no request in progress is simply closed; one with a request
            // finishes it first.
            if !finished && busy.load(Ordering::Acquire) > 0 {
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
