//! The release binary is self-contained: copied alone into an empty folder, it starts, creates
//! its database, and serves the page, the wasm and the CSS from inside itself.
//!
//! Needs the release build, so it is ignored by a plain `cargo test`; `.ci/test` runs it with
//! `TICKETING_BIN=target/release/ticketing cargo test -p server --test release_binary -- --ignored`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// Held while a test writes its copy of the binary and starts it. The tests run on threads of
/// one process: a fork made by one test while another still has its copy open for writing
/// hands that write descriptor to the child until it execs, and starting the copy meanwhile
/// fails with "Text file busy" (ETXTBSY). No other fork happens in this file: SIGTERM is sent
/// with `libc::kill`, not by running `kill`.
static COPY_AND_START: Mutex<()> = Mutex::new(());

/// The started binary, killed if a test ends before it exited.
struct Running {
    child: Child,
    reaped: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The release binary copied alone into an empty folder and started there (under `sh` with
/// `ulimit -n` set when `file_limit` is given); returns once it says it is listening. Its log
/// is passed on to the test's own.
async fn start_alone(
    file_limit: Option<u32>,
    env: &[(&str, &str)],
) -> (Running, String, tempfile::TempDir) {
    let built = std::env::var("TICKETING_BIN")
        .expect("TICKETING_BIN must point at target/release/ticketing");
    let folder = tempfile::tempdir().unwrap();
    let binary = folder.path().join("ticketing");
    let guard = COPY_AND_START
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    std::fs::copy(&built, &binary).expect("copy the binary");
    let port = free_port();
    let mut command = match file_limit {
        Some(limit) => {
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg(format!("ulimit -n {limit} && exec ./ticketing"));
            sh
        }
        None => Command::new(&binary),
    };
    let child = command
        .current_dir(folder.path())
        .env_clear()
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the binary");
    drop(guard);
    let mut running = Running {
        child,
        reaped: false,
    };
    let log = running.child.stdout.take().expect("the binary's log");
    let (listening, ready) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut listening = Some(listening);
        for line in BufReader::new(log).lines().map_while(Result::ok) {
            let _ = writeln!(std::io::stderr(), "ticketing: {line}");
            if line.contains("ticketing listening")
                && let Some(listening) = listening.take()
            {
                let _ = listening.send(());
            }
        }
        // The log closed: the binary exited (dropping `listening` tells the test so).
    });
    match tokio::time::timeout(Duration::from_secs(20), ready).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) => panic!(
            "the binary exited before listening: {:?}",
            running.child.wait()
        ),
        Err(_) => panic!("the binary did not start listening within 20 s"),
    }
    (running, format!("http://127.0.0.1:{port}"), folder)
}

/// Waits for the binary to exit, at most `limit`.
async fn exit_status(running: &mut Running, limit: Duration) -> std::process::ExitStatus {
    let pid = libc::pid_t::try_from(running.child.id()).expect("a pid fits pid_t");
    let waited = tokio::task::spawn_blocking(move || {
        let mut status = 0;
        // SAFETY: waits for a child of this process that nothing else waits for meanwhile.
        let reaped = unsafe { libc::waitpid(pid, &mut status, 0) };
        (reaped, status)
    });
    let (reaped, status) = tokio::time::timeout(limit, waited)
        .await
        .unwrap_or_else(|_| panic!("the binary did not exit within {limit:?}"))
        .unwrap();
    assert_eq!(reaped, pid, "waitpid: {}", std::io::Error::last_os_error());
    running.reaped = true;
    std::os::unix::process::ExitStatusExt::from_raw(status)
}

/// With systemd's default file limit, a client holding more idle sockets than the limit does
/// not make the site unreachable: connections stay below the limit, idle ones make room.
#[tokio::test]
#[ignore = "needs the release binary; .ci/test runs it with TICKETING_BIN set"]
async fn twelve_hundred_idle_sockets_do_not_lock_out_a_visitor() {
    let (_running, base, _folder) = start_alone(Some(1024), &[]).await;
    let address = base.trim_start_matches("http://").to_string();
    let mut idle = Vec::with_capacity(1200);
    for _ in 0..1200 {
        // Past the server's cap the kernel still completes the handshake (the listen
        // backlog); connecting never blocks the test.
        match tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect(&address),
        )
        .await
        {
            Ok(Ok(socket)) => idle.push(socket),
            _ => break,
        }
    }
    assert!(idle.len() >= 1024, "opened {} idle sockets", idle.len());
    let response = tokio::time::timeout(
        Duration::from_secs(5),
        reqwest::Client::new().get(format!("{base}/healthz")).send(),
    )
    .await
    .expect("a normal request is answered while idle sockets are open")
    .unwrap();
    assert_eq!(response.status(), 200);
    drop(idle);
}

/// Under a 256-file limit, 300 clients each send a request's headers and then trickle its body
/// at a byte a second (never pausing long enough for a pause-based timeout), reconnecting when
/// cut off. Throughout, a fresh visitor is answered within 2 s: a connection only waiting for a
/// body makes room like an idle one, and no body may take longer than its deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the release binary; .ci/test runs it with TICKETING_BIN set"]
async fn three_hundred_trickled_bodies_do_not_lock_out_a_visitor() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_running, base, _folder) = start_alone(Some(256), &[]).await;
    let address = base.trim_start_matches("http://").to_string();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cut_off = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tricklers: Vec<_> = (0..300)
        .map(|_| {
            let (address, stop, cut_off) = (address.clone(), stop.clone(), cut_off.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let Ok(mut socket) = tokio::net::TcpStream::connect(&address).await else {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    };
                    let head = "POST /api/users/signin HTTP/1.1\r\nHost: x\r\n\
                                Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n";
                    if socket.write_all(head.as_bytes()).await.is_err() {
                        continue;
                    }
                    // A byte a second until the server answers or closes.
                    let mut answer = [0u8; 512];
                    loop {
                        if stop.load(std::sync::atomic::Ordering::Relaxed) {
                            return;
                        }
                        if socket.write_all(b" ").await.is_err() {
                            break;
                        }
                        match tokio::time::timeout(Duration::from_secs(1), socket.read(&mut answer))
                            .await
                        {
                            Err(_) => {}
                            Ok(_) => break,
                        }
                    }
                    cut_off.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    // An attacker comes straight back, after a moment.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        })
        .collect();

    // Fresh visitors, one every half second for 20 s (past the 10 s body deadline).
    let started = std::time::Instant::now();
    let mut probes = 0;
    while started.elapsed() < Duration::from_secs(20) {
        let asked = std::time::Instant::now();
        let answered = tokio::time::timeout(
            Duration::from_secs(2),
            reqwest::Client::new().get(format!("{base}/healthz")).send(),
        )
        .await;
        let response = answered.unwrap_or_else(|_| {
            panic!(
                "a fresh visitor waited over 2 s, {:?} into the trickle",
                started.elapsed()
            )
        });
        assert_eq!(response.expect("answered").status(), 200);
        probes += 1;
        tokio::time::sleep(Duration::from_millis(500).saturating_sub(asked.elapsed())).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for trickler in tricklers {
        let _ = tokio::time::timeout(Duration::from_secs(5), trickler).await;
    }
    assert!(probes >= 20, "{probes} visitors");
    assert!(
        cut_off.load(std::sync::atomic::Ordering::Relaxed) >= 300,
        "every trickled body was cut off at least once"
    );
}

#[tokio::test]
#[ignore = "needs the release binary; .ci/test runs it with TICKETING_BIN set"]
async fn the_release_binary_runs_alone_from_an_empty_folder() {
    let (mut running, base, folder) = start_alone(None, &[]).await;
    let client = reqwest::Client::new();
    assert!(
        folder.path().join("data/ticketing.db").is_file(),
        "the default database is created in data/"
    );

    let page = client.get(&base).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    // The front end is loaded from a folder named by its content hash: `/pkg/<16 hex digits>/`.
    let hash = html
        .split("/pkg/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .filter(|hash| hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| panic!("the page loads a content-hashed bundle: {html}"))
        .to_string();
    for ext in ["js", "wasm", "css"] {
        assert!(
            html.contains(&format!("/pkg/{hash}/ticketing.{ext}")),
            "{ext}: {html}"
        );
    }
    let immutable = "public, max-age=31536000, immutable";

    let wasm = client
        .get(format!("{base}/pkg/{hash}/ticketing.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(wasm.headers()["cache-control"], immutable);
    assert!(
        wasm.bytes().await.unwrap().starts_with(b"\0asm"),
        "a real wasm module"
    );

    let js = client
        .get(format!("{base}/pkg/{hash}/ticketing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(js.headers()["cache-control"], immutable);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );

    let css = client
        .get(format!("{base}/pkg/{hash}/ticketing.css"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["cache-control"], immutable);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(
        css.headers()["content-encoding"],
        "br",
        "assets are served precompressed"
    );
    // An encoding the client refuses is never sent, an asset included.
    for (asked, wanted) in [("br;q=0, gzip", Some("gzip")), ("br;q=0", None)] {
        let css = client
            .get(format!("{base}/pkg/{hash}/ticketing.css"))
            .header("accept-encoding", asked)
            .send()
            .await
            .unwrap();
        assert_eq!(css.status(), 200);
        assert_eq!(
            css.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            wanted,
            "{asked}"
        );
    }

    // The landing page's code is in the main module (a first visit fetches no chunk); every
    // other page's code is a chunk of its own, named in the page's head for the browser to
    // fetch beside the main module: in every render, the very first after the start included,
    // and in the copy kept for the visitors that follow.
    let preloaded = |html: &str| {
        html.split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|href| {
                href.ends_with(".wasm") && (href.contains("/split_") || href.contains("/chunk_"))
            })
            .map(str::to_string)
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert!(
        preloaded(&html).is_empty(),
        "the landing page needs no chunk: {html}"
    );
    let listings = || async {
        let page = client.get(format!("{base}/tickets")).send().await.unwrap();
        page.text().await.unwrap()
    };
    let first = listings().await;
    let chunks = preloaded(&first);
    assert!(
        !chunks.is_empty(),
        "the first render preloads its chunks: {first}"
    );
    for _ in 0..3 {
        let again = listings().await;
        assert_eq!(preloaded(&again), chunks, "every render: {again}");
    }
    for chunk in chunks.iter().take(5) {
        assert!(chunk.starts_with(&format!("/pkg/{hash}/")), "{chunk}");
        let response = client.get(format!("{base}{chunk}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{chunk}");
        assert_eq!(response.headers()["content-type"], "application/wasm");
        assert_eq!(response.headers()["cache-control"], immutable);
        assert!(response.bytes().await.unwrap().starts_with(b"\0asm"));
    }

    // Another build's hash names nothing here; the plain names are still served, revalidated.
    let stale = client
        .get(format!("{base}/pkg/0123456789abcdef/ticketing.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 404);
    let plain = client
        .get(format!("{base}/pkg/ticketing.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 200);
    assert_eq!(
        plain.headers()["cache-control"],
        "public, max-age=0, must-revalidate"
    );
    let etag = plain.headers()["etag"].clone();
    let again = client
        .get(format!("{base}/pkg/ticketing.css"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        304,
        "unchanged assets are revalidated, not re-sent"
    );

    let favicon = client
        .get(format!("{base}/favicon.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(favicon.status(), 200);

    // SIGTERM stops it gracefully.
    let pid = libc::pid_t::try_from(running.child.id()).expect("a pid fits pid_t");
    // SAFETY: kill(2) with a pid this test started and still owns (not yet waited for).
    let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(sent, 0, "send SIGTERM: {}", std::io::Error::last_os_error());
    let status = exit_status(&mut running, Duration::from_secs(10)).await;
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

/// A fresh database on the PostgreSQL server `.ci/with-postgres` started (`TEST_POSTGRES_URL`).
async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let server =
        std::env::var("TEST_POSTGRES_URL").expect("TEST_POSTGRES_URL: run under .ci/with-postgres");
    let name = format!("nodes_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    format!("{server}/{name}")
}

/// Three release binaries on one PostgreSQL database; one is killed with SIGKILL in the middle
/// of a race for forty tickets. The others keep answering, and what is stored still says every
/// ticket is held or sold at most once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the release binary and PostgreSQL; .ci/test runs it under .ci/with-postgres"]
async fn a_node_killed_mid_race_leaves_every_invariant_and_the_others_answering() {
    let url = fresh_postgres_database().await;
    let built = std::env::var("TICKETING_BIN").unwrap();
    // Deployments migrate once before starting their nodes.
    let migrated = Command::new(&built)
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run ticketing migrate");
    assert!(migrated.status.success(), "{migrated:?}");
    assert_eq!(
        String::from_utf8_lossy(&migrated.stdout).trim(),
        "The database is up to date."
    );
    let seeded = Command::new(&built)
        .args(["seed", "--demo", "--users", "60", "--tickets", "40"])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("seed the database");
    assert!(seeded.status.success(), "{seeded:?}");
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("MAX_LIVE_ORDERS", "0"),
        ("ORDER_RATE_LIMIT", "0"),
        ("AUTH_RATE_LIMIT", "0"),
    ];
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(start_alone(None, &env).await);
    }
    let bases: Vec<String> = nodes.iter().map(|(_, base, _)| base.clone()).collect();
    let http = reqwest::Client::new();

    // Sixty buyers, signed in on the nodes in turn.
    let mut cookies = Vec::new();
    for n in 1..=60 {
        let signed_in = http
            .post(format!("{}/api/users/signin", bases[n % 3]))
            .json(&serde_json::json!({ "email": format!("demo{n}@example.com"), "password": "ticketing-demo" }))
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 200);
        let cookie = signed_in.headers()["set-cookie"].to_str().unwrap();
        cookies.push(cookie.split(';').next().unwrap().to_string());
    }
    let tickets: Vec<serde_json::Value> = http
        .get(format!("{}/api/tickets", bases[1]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(tickets.len() >= 20);

    // Every buyer tries every ticket, spread over the nodes; node 0 dies once the race is on.
    let attempts: Vec<_> = cookies
        .iter()
        .enumerate()
        .flat_map(|(b, cookie)| {
            tickets
                .iter()
                .map(move |t| (b, cookie.clone(), t["id"].as_str().unwrap().to_string()))
        })
        .collect();
    let started = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let race_on = std::sync::Arc::new(tokio::sync::Notify::new());
    let requests = futures::future::join_all(attempts.into_iter().enumerate().map(
        |(n, (b, cookie, ticket))| {
            let (http, base) = (http.clone(), bases[(b + n) % 3].clone());
            let (started, race_on) = (started.clone(), race_on.clone());
            async move {
                let answer = http
                    .post(format!("{base}/api/orders"))
                    .header("cookie", cookie)
                    .json(&serde_json::json!({ "ticketId": ticket }))
                    .send()
                    .await;
                // Three hundred answers in, the race is on: time to kill a node.
                if started.fetch_add(1, std::sync::atomic::Ordering::AcqRel) + 1 == 300 {
                    race_on.notify_one();
                }
                (base, answer.map(|r| r.status().as_u16()))
            }
        },
    ));
    let killer = async {
        race_on.notified().await;
        let pid = libc::pid_t::try_from(nodes[0].0.child.id()).unwrap();
        // SAFETY: kill(2) on a child this test started and has not reaped.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    };
    let (answers, ()) = tokio::join!(requests, killer);

    for (base, answer) in &answers {
        if base != &bases[0] {
            let status = answer
                .as_ref()
                .expect("the surviving nodes answer every request");
            assert!(matches!(status, 201 | 400), "{base}: {status}");
        }
    }
    for base in &bases[1..] {
        let health = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200, "{base} still healthy");
    }

    // What is stored: no ticket with two live orders, every reserved ticket held by its one
    // live order, and no live order without its ticket.
    use sqlx::Connection;
    let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
    let doubled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT ticket_id FROM orders WHERE status IN ('created', 'awaiting:payment', 'complete') \
         GROUP BY ticket_id HAVING COUNT(*) > 1) AS d",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(doubled, 0, "a ticket with two live orders");
    let mismatched: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM tickets t WHERE t.status = 'reserved' AND NOT EXISTS \
         (SELECT 1 FROM orders o WHERE o.id = t.order_id AND o.ticket_id = t.id AND o.status IN ('created', 'awaiting:payment'))",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(mismatched, 0, "a reserved ticket without its live order");
    let orphans: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders o JOIN tickets t ON t.id = o.ticket_id \
         WHERE o.status IN ('created', 'awaiting:payment') AND t.order_id IS DISTINCT FROM o.id",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(orphans, 0, "a live order whose ticket is not held by it");
    let reserved: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE status = 'created'")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert!(reserved >= 1, "the race reserved tickets");
}

/// `ticketing refund` beside a running node: the buyer gets the whole total back, the ticket is
/// on sale again, and a second refund of the same order is refused with the reason.
#[tokio::test]
#[ignore = "needs the release binary; .ci/test runs it with TICKETING_BIN set"]
async fn an_operator_refunds_a_paid_order_from_the_command_line() {
    use serde_json::{Value, json};
    let (_running, base, folder) = start_alone(None, &[]).await;
    let person = || {
        reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap()
    };
    let (seller, buyer) = (person(), person());
    for (client, email) in [
        (&seller, "seller@example.com"),
        (&buyer, "buyer@example.com"),
    ] {
        let signed_up = client
            .post(format!("{base}/api/users/signup"))
            .json(&json!({ "email": email, "password": "violet tram oyster lamp" }))
            .send()
            .await
            .unwrap();
        assert_eq!(signed_up.status(), 201);
    }
    let ticket: Value = seller
        .post(format!("{base}/api/tickets"))
        .json(&json!({ "title": "Cup final", "price": 20 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order: Value = buyer
        .post(format!("{base}/api/orders"))
        .json(&json!({ "ticketId": ticket["id"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paid = buyer
        .post(format!("{base}/api/payments"))
        .json(&json!({ "orderId": order["id"], "token": "tok_visa" }))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 201);

    let order_id = order["id"].as_str().unwrap();
    let refund = || {
        let _guard = COPY_AND_START
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Command::new(folder.path().join("ticketing"))
            .current_dir(folder.path())
            .env_clear()
            .args(["refund", order_id, "--reason", "The match was called off"])
            .output()
            .expect("run ticketing refund")
    };
    let first = refund();
    let said = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{first:?}");
    assert!(
        said.contains("refunded: $20.00 back to the buyer"),
        "{said}"
    );
    let shown: Value = seller
        .get(format!(
            "{base}/api/tickets/{}",
            ticket["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["status"], "available");
    let order_now: Value = buyer
        .get(format!("{base}/api/orders/{order_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(order_now["status"], "cancelled");

    let second = refund();
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("Order is already refunded"),
        "{second:?}"
    );
    let mail: Vec<String> = std::fs::read_dir(folder.path().join("data/mail"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    for subject in [
        "Subject: Refunded: Cup final",
        "Subject: Sale refunded: Cup final",
    ] {
        assert_eq!(
            mail.iter().filter(|m| m.contains(subject)).count(),
            1,
            "{subject}, once"
        );
    }
}
