//! `spawn_app()`: the real application on 127.0.0.1:0 with a fresh temporary database, plus
//! small helpers to talk to it like a client would.

pub use app::ssr::clock::{Clock, ManualClock};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use server::{Application, Config};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tempfile::TempDir;
use tokio::sync::oneshot;

pub struct TestApp {
    pub address: String,
    pub state: app::ssr::AppState,
    /// The app's clock: it stands still until a test moves it.
    pub clock: Arc<ManualClock>,
    pub config: Config,
    dir: TempDir,
    shutdown: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// With `TEST_POSTGRES_URL` set (`postgres://user@host:port`, as `.ci/test` sets it), every test
/// app gets a database of its own on that server; without it, a SQLite file of its own.
async fn fresh_postgres_database(server: &str) -> String {
    use sqlx::Connection;
    let server = server.trim_end_matches('/');
    let name = format!("t_{}", app::ssr::clock::new_id().as_str().replace('-', ""));
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("the test PostgreSQL server answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("a fresh test database");
    admin.close().await.ok();
    format!("{server}/{name}")
}

/// Whether the tests run on PostgreSQL (`TEST_POSTGRES_URL`) rather than SQLite.
pub fn on_postgres() -> bool {
    std::env::var("TEST_POSTGRES_URL").is_ok()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app after `configure` adjusted the defaults (rate limit, reservation window, …).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    if let Ok(filter) = std::env::var("TEST_LOG") {
        server::telemetry::init(&filter, "text");
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut config = Config::defaults();
    config.database_url = match std::env::var("TEST_POSTGRES_URL") {
        Ok(server) => fresh_postgres_database(&server).await,
        Err(_) => format!("sqlite://{}", dir.path().join("ticketing.db").display()),
    };
    // Mail goes to `.eml` files in the test's folder, delivered when a test asks
    // (`deliver_mail`), never by a worker racing the test.
    config.mail_dir = dir.path().join("mail").display().to_string();
    config.mail_poll = 0;
    config.payout_poll = 0;
    config.site_addr = "127.0.0.1:0".parse().expect("address");
    configure(&mut config);
    start(config, dir, Arc::new(ManualClock::starting_now())).await
}

/// `count` application nodes on one fresh database, telling the time by one clock, each with
/// its own listener, caches, limits and background tasks, as separate processes would be.
pub async fn spawn_nodes(count: usize, configure: impl Fn(&mut Config)) -> Vec<TestApp> {
    let first = spawn_app_with(&configure).await;
    let mut nodes = Vec::with_capacity(count);
    let (config, clock) = (first.config.clone(), first.clock.clone());
    nodes.push(first);
    for _ in 1..count {
        let dir = tempfile::tempdir().expect("temporary folder");
        let mut config = config.clone();
        config.mail_dir = dir.path().join("mail").display().to_string();
        nodes.push(start(config, dir, clock.clone()).await);
    }
    nodes
}

async fn start(config: Config, dir: TempDir, clock: Arc<ManualClock>) -> TestApp {
    let app = Application::build_with_clock(config.clone(), clock.clone())
        .await
        .expect("the application starts");
    let address = format!("http://{}", app.address());
    let state = app.state().clone();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        state,
        clock,
        config,
        dir,
        shutdown,
        server,
    }
}

/// A stopped application whose database (and clock) is kept for the next start.
pub struct StoppedApp {
    config: Config,
    dir: TempDir,
    pub clock: Arc<ManualClock>,
}

impl StoppedApp {
    /// Starts the application again on the same database (on a new port).
    pub async fn start(self) -> TestApp {
        start(self.config, self.dir, self.clock).await
    }
}

/// A client with its own cookie jar that does not follow redirects (so tests see them).
pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// A unique, valid email for this test run.
pub fn unique_email() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "user{}-{}@example.com",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// Shuts the server down gracefully (as SIGTERM would) and hands back what is needed to
    /// start it again on the same database.
    pub async fn stop(self) -> StoppedApp {
        let _ = self.shutdown.send(());
        tokio::time::timeout(std::time::Duration::from_secs(20), self.server)
            .await
            .expect("the server stops within 20 s")
            .expect("the server task")
            .expect("the server shuts down cleanly");
        StoppedApp {
            config: self.config,
            dir: self.dir,
            clock: self.clock,
        }
    }

    /// Runs the mail worker's round now; returns how many messages were delivered.
    pub async fn deliver_mail(&self) -> usize {
        app::ssr::services::mail::deliver_due(&app::ssr::Ctx::system(&self.state))
            .await
            .expect("a delivery round")
    }

    /// Delivers due mail and returns every `.eml` file written so far (without `SMTP_URL`), as
    /// parsed messages, oldest first.
    pub async fn mailbox(&self) -> Vec<Mail> {
        self.deliver_mail().await;
        read_mail_dir(&self.mail_dir())
    }

    /// Where this app writes `.eml` files (`MAIL_DIR`).
    pub fn mail_dir(&self) -> std::path::PathBuf {
        std::path::PathBuf::from(&self.config.mail_dir)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(&self, client: &Client, path: &str, body: &Value) -> Response {
        client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// GETs `path` and reads the JSON body, whatever the status.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, client: &Client, path: &str) -> T {
        self.get(client, path)
            .await
            .json()
            .await
            .expect("json body")
    }

    pub async fn sign_up(&self, client: &Client, email: &str, password: &str) -> Response {
        self.post_json(
            client,
            "/api/users/signup",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn sign_in(&self, client: &Client, email: &str, password: &str) -> Response {
        self.post_json(
            client,
            "/api/users/signin",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// A sign-in form posted without JavaScript and refused: the address it sends the browser
    /// back to (the sign-in page with the error signed into it), without this app's origin.
    pub async fn refused_sign_in(&self) -> String {
        let response = client()
            .post(self.url("/_fn/sign_in"))
            .header("referer", self.url("/auth/signin"))
            .header("accept", "text/html")
            .form(&[
                ("email", "nobody@example.com"),
                ("password", "wrong password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.contains("__sig="), "{location}");
        location.trim_start_matches(&self.address).to_string()
    }

    /// A new account, signed in on a client of its own.
    pub async fn signed_in_user(&self) -> (Client, String) {
        let client = client();
        let email = unique_email();
        let response = self.sign_up(&client, &email, PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "sign-up for a test user"
        );
        (client, email)
    }

    /// Lists a ticket as the user signed in on `client`; returns the created ticket's JSON.
    pub async fn create_ticket(&self, client: &Client, body: &Value) -> Value {
        let response = self.post_json(client, "/api/tickets", body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "creating {body}");
        response.json().await.expect("json body")
    }

    /// The types of the events recorded for one aggregate, oldest first.
    pub async fn events_for(&self, id: &str) -> Vec<String> {
        let mut conn = self.state.db.read.acquire().await.expect("a connection");
        app::ssr::storage::event_log::list_events_for(
            &mut conn,
            &app::domain::Id::from_trusted(id.to_string()),
        )
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.event_type)
        .collect()
    }

    /// An order's charges as stored, oldest first.
    pub async fn charges_of(&self, order_id: &str) -> Vec<app::domain::Charge> {
        let mut conn = self.state.db.read.acquire().await.expect("a connection");
        app::ssr::storage::charges::list_charges_for_order(
            &mut conn,
            &app::domain::Id::from_trusted(order_id.to_string()),
        )
        .await
        .expect("charges")
    }

    /// A seller's ticket reserved by a new buyer: the buyer's client and the order's JSON.
    pub async fn reserved_order(&self) -> (Client, Value) {
        let (seller, _) = self.signed_in_user().await;
        let ticket = self
            .create_ticket(&seller, &json!({ "title": "Cup final", "price": 45.5 }))
            .await;
        let (buyer, _) = self.signed_in_user().await;
        let response = self
            .post_json(&buyer, "/api/orders", &json!({ "ticketId": ticket["id"] }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "reserving a ticket");
        (buyer, response.json().await.expect("json body"))
    }

    pub async fn current_user(&self, client: &Client) -> Value {
        let response = self.get(client, "/api/users/currentuser").await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<Value>().await.expect("json body")["currentUser"].clone()
    }
}

/// Asserts the status and that the body is exactly the error envelope with these entries.
/// The token in the newest link of `kind` ("verify" or "reset") sent to `to`.
pub async fn token_sent(app: &TestApp, to: &str, kind: &str) -> String {
    let mail = app.mailbox().await;
    let link = mail
        .iter()
        .rev()
        .filter(|m| m.to == to)
        .find_map(|m| {
            m.text
                .split_whitespace()
                .find(|w| w.contains(&format!("/auth/{kind}?token=")))
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("no {kind} link to {to} in {mail:#?}"));
    assert!(link.starts_with(&app.address), "{link}");
    link.split("token=").nth(1).unwrap().to_string()
}

impl TestApp {
    /// `buyer` reserves `ticket_id` and pays for it with the test card; returns the order as
    /// reserved.
    pub async fn buy(&self, buyer: &Client, ticket_id: &str) -> Value {
        self.reserve_and_pay(buyer, json!({ "ticketId": ticket_id }))
            .await
    }

    /// `buyer` reserves what `body` asks `POST /api/orders` for and pays with the test card;
    /// returns the order as reserved.
    pub async fn reserve_and_pay(&self, buyer: &Client, body: Value) -> Value {
        let reserved = self.post_json(buyer, "/api/orders", &body).await;
        assert_eq!(reserved.status(), StatusCode::CREATED, "reservation");
        let order: Value = reserved.json().await.unwrap();
        let paid = self
            .post_json(
                buyer,
                "/api/payments",
                &json!({ "orderId": order["id"], "token": "tok_visa" }),
            )
            .await;
        assert_eq!(paid.status(), StatusCode::CREATED, "payment");
        order
    }

    /// A new account whose address is verified by following the mailed link, signed in on a
    /// client of its own: (client, email, user id).
    pub async fn verified_user(&self) -> (Client, String, String) {
        let (client, email) = self.signed_in_user().await;
        let token = token_sent(self, &email, "verify").await;
        let verified = self
            .post_json(&client, "/api/users/verify", &json!({ "token": token }))
            .await;
        assert_eq!(verified.status(), StatusCode::OK, "verification");
        let id = self.current_user(&client).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        (client, email, id)
    }
}

/// The response's `Content-Type`, or an empty string.
pub fn content_type(response: &Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

impl TestApp {
    /// Gives the account with this address a role, as `ticketing admin grant` does.
    pub async fn grant(&self, email: &str, role: app::domain::role::Role) {
        app::ssr::services::roles::grant_role(&app::ssr::Ctx::system(&self.state), email, role)
            .await
            .expect("the role is granted");
    }

    /// A new admin, signed in on a client of its own: (client, user id).
    pub async fn admin(&self) -> (Client, String) {
        let (client, email) = self.signed_in_user().await;
        self.grant(&email, app::domain::role::Role::Admin).await;
        let id = self.current_user(&client).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        (client, id)
    }
}

pub async fn assert_errors(response: Response, status: StatusCode, errors: Value) {
    assert_eq!(response.status(), status, "status");
    let content_type = content_type(&response);
    assert!(
        content_type.starts_with("application/json"),
        "content type was {content_type:?}"
    );
    let body: Value = response.json().await.expect("json body");
    assert_eq!(body, json!({ "errors": errors }));
}

/// The value of the named cookie set by a response, if any.
pub fn set_cookie<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

pub const SESSION_COOKIE: &str = "ticketing_session";

/// Moves `clock` just past an order's `expiresAt`: its reservation window is over.
pub fn move_past_expiry(clock: &ManualClock, order: &Value) {
    let expires_at = order["expiresAt"]
        .as_str()
        .and_then(app::domain::Timestamp::parse_rfc3339)
        .expect("the order has an expiresAt");
    clock.move_past(expires_at);
}

/// A delivered message, as a test reads it back.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    /// The whole message as sent, encoded.
    pub raw: String,
    pub text: String,
    pub html: String,
    /// What the QR images carried inside the message say (each decoded as a phone's camera
    /// would: the PNG read back and scanned with rqrr), in the message's order.
    pub qr_codes: Vec<String>,
}

impl Mail {
    /// Reads a message as a mail client would (mail-parser does the MIME decoding).
    pub fn parse(bytes: &[u8]) -> Mail {
        use mail_parser::MimeHeaders;
        let message = mail_parser::MessageParser::default()
            .parse(bytes)
            .expect("a parsable message");
        let to = message
            .to()
            .and_then(|to| to.first())
            .and_then(|address| address.address())
            .unwrap_or_default()
            .to_string();
        Mail {
            to,
            subject: message.subject().unwrap_or_default().to_string(),
            raw: String::from_utf8_lossy(bytes).into_owned(),
            text: message.body_text(0).unwrap_or_default().into_owned(),
            html: message.body_html(0).unwrap_or_default().into_owned(),
            qr_codes: message
                .attachments()
                .filter(|part| {
                    part.content_type()
                        .is_some_and(|t| t.ctype() == "image" && t.subtype() == Some("png"))
                })
                .map(|part| scan_qr(part.contents()))
                .collect(),
        }
    }

    /// The first link in the plain-text part that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> String {
        self.text
            .split_whitespace()
            .find(|word| word.starts_with(prefix))
            .unwrap_or_else(|| panic!("no link starting {prefix} in {}", self.text))
            .to_string()
    }
}

/// The text of the one QR code in a PNG image.
pub fn scan_qr(png: &[u8]) -> String {
    let image = image::load_from_memory(png)
        .expect("a readable image")
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("a QR code that decodes").1
}

/// Every `.eml` file in `dir`, oldest first (by the time-ordered outbox id in the file name).
pub fn read_mail_dir(dir: &std::path::Path) -> Vec<Mail> {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
        .iter()
        .map(|path| Mail::parse(&std::fs::read(path).expect("a readable message")))
        .collect()
}

/// A runtime for a property test that drives the real services from a plain `#[test]`.
pub fn property_runtime(worker_threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `test` on `default_cases` values of `strategy` (`PROPTEST_CASES` runs more), and
/// fails with proptest's smallest failing value.
pub fn check_property<S: proptest::strategy::Strategy>(
    default_cases: u32,
    strategy: &S,
    test: impl Fn(S::Value) -> Result<(), proptest::test_runner::TestCaseError>,
) {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default_cases);
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases,
        ..proptest::test_runner::Config::default()
    });
    if let Err(failure) = runner.run(strategy, test) {
        panic!("{failure}");
    }
}

/// A published event, put on sale by an organiser of its own.
pub struct OnSale {
    pub organiser: Client,
    pub event_id: String,
    pub section_id: String,
}

impl TestApp {
    /// A new organiser (with a verified address) publishes an event named `name` in 2030 with
    /// one standing section ("Standing") of `capacity` seats at `price`.
    pub async fn event_on_sale(&self, name: &str, price: f64, capacity: u32) -> OnSale {
        let (organiser, organiser_email, _) = self.verified_user().await;
        self.grant(&organiser_email, app::domain::role::Role::Organiser)
            .await;
        let body = json!({
            "name": name,
            "category": "concert",
            "venue": "Hall",
            "city": "Leeds",
            "timeZone": "Europe/London",
            "startsAt": "2030-06-01T19:30",
            "sections": [{ "name": "Standing", "price": price, "capacity": capacity }]
        });
        let created = self.post_json(&organiser, "/api/events", &body).await;
        assert_eq!(created.status(), StatusCode::CREATED, "creating {name}");
        let event: Value = created.json().await.unwrap();
        let event_id = event["id"].as_str().unwrap().to_string();
        let published = self
            .post_json(
                &organiser,
                &format!("/api/events/{event_id}/publish"),
                &json!({}),
            )
            .await;
        assert_eq!(published.status(), StatusCode::OK, "publishing {name}");
        OnSale {
            organiser,
            event_id,
            section_id: event["sections"][0]["id"].as_str().unwrap().to_string(),
        }
    }

    /// `buyer` reserves a seat of `section_id` and pays with the test card; returns the order
    /// as reserved (its `ticket` is the seat).
    pub async fn buy_seat(&self, buyer: &Client, section_id: &str) -> Value {
        self.reserve_and_pay(buyer, json!({ "sectionId": section_id }))
            .await
    }
}
