//! Settings from command-line flags, each with a matching environment variable.

use app::domain::parse_duration;
use app::ssr::Settings;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "ticketing",
    version,
    about = "A self-hosted marketplace for tickets to live events."
)]
pub struct Config {
    /// `sqlite://PATH` (the embedded default; the file and its folder are created if missing) or
    /// `postgres://USER:PASSWORD@HOST/DATABASE`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/ticketing.db"
    )]
    pub database_url: String,

    /// Address to listen on.
    #[arg(
        long = "site-addr",
        env = "LEPTOS_SITE_ADDR",
        default_value = "127.0.0.1:3000"
    )]
    pub site_addr: SocketAddr,

    /// Public address of the site, used for redirects, same-origin checks and cookie security
    /// (default: `http://` and the site address).
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,

    /// How long a reservation holds a ticket, e.g. 15m, 90s, 2s.
    #[arg(long, env = "RESERVATION_WINDOW", default_value = "15m", value_parser = parse_duration)]
    pub reservation_window: i64,

    /// Currency of all prices (ISO 4217 code).
    #[arg(long, env = "CURRENCY", default_value = "usd")]
    pub currency: String,

    /// Sign-in and sign-up attempts allowed per client address per minute; 0 disables the limit.
    #[arg(long, env = "AUTH_RATE_LIMIT", default_value_t = 20)]
    pub auth_rate_limit: u32,

    /// Live reservations one buyer may hold at once; 0 disables the limit (load tests).
    #[arg(long, env = "MAX_LIVE_ORDERS", default_value_t = 4)]
    pub max_live_orders: u32,

    /// Reservations one account may make per minute; 0 disables the limit.
    #[arg(long, env = "ORDER_RATE_LIMIT", default_value_t = 30)]
    pub order_rate_limit: u32,

    /// Percentage of the price added to what the buyer pays (two decimals at most).
    #[arg(long, env = "BUYER_FEE_PERCENT", default_value = "0", value_parser = app::domain::fees::Percent::parse)]
    pub buyer_fee_percent: app::domain::fees::Percent,

    /// Percentage of the price kept from the seller's earning (two decimals at most).
    #[arg(long, env = "SELLER_FEE_PERCENT", default_value = "0", value_parser = app::domain::fees::Percent::parse)]
    pub seller_fee_percent: app::domain::fees::Percent,

    /// With it set (e.g. 120), no listing may ask more than this share of its face value, and
    /// listings must give their face value.
    #[arg(long, env = "RESALE_PRICE_CAP_PERCENT", value_parser = app::domain::fees::Percent::parse)]
    pub resale_price_cap_percent: Option<app::domain::fees::Percent>,

    /// The time zone the listing form offers a seller who has not chosen one before (an IANA
    /// name such as Europe/London); afterwards it offers their last choice.
    #[arg(long, env = "DEFAULT_TIME_ZONE", default_value = "UTC", value_parser = parse_zone)]
    pub default_time_zone: app::domain::Zone,

    /// How long sellers' earnings stay in escrow after the event starts (or after the sale,
    /// for tickets without an event date) before they are paid out; 0 pays at once.
    #[arg(long, env = "PAYOUT_DELAY", default_value = "2d", value_parser = app::domain::duration::parse_delay)]
    pub payout_delay: i64,

    /// How often the payout job looks for money to release and send besides when this node
    /// sells or connects an account; 0 turns the job off (tests run it by hand).
    #[arg(long, env = "PAYOUT_POLL", default_value = "1m", value_parser = parse_duration)]
    pub payout_poll: i64,

    /// Open connections at most; 0 means as many as the process's file limit allows (always
    /// kept below it).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,

    /// How long a client may take to send a request's headers, and how long a kept-alive
    /// connection may sit idle.
    #[arg(long, env = "HEADER_TIMEOUT", default_value = "15s", value_parser = parse_duration)]
    pub header_timeout: i64,

    /// How long a request body (at most 16 KiB on the API) may take to arrive whole, counted
    /// from its headers; a page's form post (at most 64 KiB) gets three times as long. A body
    /// still arriving then is answered 408 and its connection closed.
    #[arg(long, env = "BODY_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub body_timeout: i64,

    /// Log filter, e.g. info or ticketing=debug,info.
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log: String,

    /// Stripe secret key (`sk_…`). Unset: the built-in test-mode gateway takes payments.
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,

    /// Secret that signs Stripe's webhook deliveries (`whsec_…`); required to accept webhooks.
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<String>,

    /// Bearer token for integrators reading `/api/events` and for Prometheus scraping
    /// `/metrics` (at least 32 characters). Unset: admins' sessions may read the event log and
    /// `/metrics` answers 401.
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true, value_parser = parse_admin_token)]
    pub admin_token: Option<String>,

    /// The site's secret, at least 32 characters, the same on every node: the keys that sign
    /// what one node hands out and another checks (form-error links) are derived from it. Unset:
    /// a key is made once and kept in the database, which every node of it shares.
    #[arg(long, env = "SECRET_KEY", hide_env_values = true, value_parser = parse_secret_key)]
    pub secret_key: Option<String>,

    /// `json` writes one JSON object per log line (for log collectors); `text` is for people.
    #[arg(long, env = "LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    /// Where the Stripe API is (tests point it at a local emulator) [default: Stripe's own].
    #[arg(long, env = "STRIPE_API_BASE")]
    pub stripe_api_base: Option<String>,

    /// SMTP server for outgoing mail: `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host:465` (implicit TLS). Unset: each message is written as an `.eml`
    /// file in MAIL_DIR.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Where messages are written when there is no SMTP_URL.
    #[arg(long, env = "MAIL_DIR", default_value = "data/mail")]
    pub mail_dir: String,

    /// The sender of every message.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "Ticketing <tickets@localhost>"
    )]
    pub mail_from: String,

    /// How often the mail worker looks for due messages besides when this node queues one;
    /// 0 turns the worker off (tests deliver by hand).
    #[arg(long, env = "MAIL_POLL", default_value = "2s", value_parser = parse_duration)]
    pub mail_poll: i64,

    /// Folder with the built site (wasm, JS, CSS) when the binary was built without embedded assets.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the site and the API (what running without a command does).
    Serve,
    /// Apply the database migrations and exit (for deployments that migrate once before
    /// starting their nodes; `serve` migrates too).
    Migrate,
    /// Give or take away a role: `admin grant EMAIL --role staff` lets an account check tickets
    /// in at `/check-in`, `--role organiser` lets it put events on sale.
    Admin {
        #[command(subcommand)]
        action: AdminCommand,
    },
    /// Refund a paid order in full (the buyer gets the whole total back through the payment
    /// provider, the ticket goes back on sale, the seller's earning is reversed); both are
    /// emailed.
    Refund {
        /// The order's id.
        order: String,
        /// Why, told to the buyer and the seller.
        #[arg(long)]
        reason: String,
    },
    /// Write a consistent copy of the SQLite database to PATH (a new file) while the site runs,
    /// and check it. For PostgreSQL use `pg_dump`.
    Backup {
        /// Where the copy goes; must not exist yet.
        path: std::path::PathBuf,
    },
    /// Fill an empty database with demo accounts and listings.
    Seed {
        /// Required: says that demo data is what you want.
        #[arg(long)]
        demo: bool,
        /// How many demo sellers (demo1@example.com, …; password `ticketing-demo`).
        #[arg(long, default_value_t = 8)]
        users: usize,
        /// How many listings.
        #[arg(long, default_value_t = 300)]
        tickets: usize,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Give the account with this address a role.
    Grant {
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Take a role (without `--role`, every role) away from the account with this address.
    Revoke {
        email: String,
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    Staff,
    Organiser,
    Admin,
}

impl From<RoleArg> for app::domain::role::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Staff => app::domain::role::Role::Staff,
            RoleArg::Organiser => app::domain::role::Role::Organiser,
            RoleArg::Admin => app::domain::role::Role::Admin,
        }
    }
}

impl Config {
    /// What the server loop enforces on connections.
    pub fn serve_limits(&self) -> crate::serve::Limits {
        crate::serve::Limits::new(
            self.max_connections,
            std::time::Duration::from_millis(self.header_timeout.max(1) as u64),
            std::time::Duration::from_millis(self.body_timeout.max(1) as u64),
        )
    }

    /// The defaults, ignoring the environment: a starting point for tests and tools.
    pub fn defaults() -> Config {
        Config {
            database_url: "sqlite://data/ticketing.db".to_string(),
            site_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            public_url: None,
            reservation_window: 15 * 60 * 1000,
            currency: "usd".to_string(),
            auth_rate_limit: 20,
            max_live_orders: 4,
            order_rate_limit: 30,
            max_connections: 0,
            buyer_fee_percent: Default::default(),
            seller_fee_percent: Default::default(),
            resale_price_cap_percent: None,
            default_time_zone: app::domain::Zone::UTC,
            payout_delay: 2 * 86_400_000,
            payout_poll: 60_000,
            header_timeout: 15_000,
            body_timeout: 10_000,
            log: "info".to_string(),
            site_root: "target/site".to_string(),
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            admin_token: None,
            secret_key: None,
            log_format: "text".to_string(),
            stripe_api_base: None,
            smtp_url: None,
            mail_dir: "data/mail".to_string(),
            mail_from: "Ticketing <tickets@localhost>".to_string(),
            mail_poll: 2000,
            command: None,
        }
    }

    /// Where mail goes: SMTP with `SMTP_URL`, else `.eml` files in `MAIL_DIR`.
    pub fn mailer(&self, public_url: &str) -> anyhow::Result<app::ssr::mail::Mailer> {
        app::ssr::mail::Mailer::new(
            self.smtp_url
                .as_deref()
                .filter(|url| !url.trim().is_empty()),
            std::path::Path::new(&self.mail_dir),
            &self.mail_from,
            public_url,
        )
    }

    /// The settings the services see, once the listening address is known.
    pub fn settings(&self, bound: SocketAddr) -> Settings {
        Settings {
            public_url: self
                .public_url
                .clone()
                .map(|url| url.trim_end_matches('/').to_string())
                .unwrap_or_else(|| format!("http://{bound}")),
            reservation_window_ms: self.reservation_window,
            currency: self.currency.trim().to_lowercase(),
            auth_rate_limit: self.auth_rate_limit,
            max_live_orders: self.max_live_orders,
            order_rate_limit: self.order_rate_limit,
            fees: app::domain::fees::Fees {
                buyer: self.buyer_fee_percent,
                seller: self.seller_fee_percent,
            },
            resale_cap: self.resale_price_cap_percent,
            default_time_zone: self.default_time_zone,
            payout_delay_ms: self.payout_delay,
            stripe_webhook_secret: self
                .stripe_webhook_secret
                .clone()
                .filter(|s| !s.trim().is_empty())
                .map(app::ssr::settings::Secret::new),
            admin_token: self
                .admin_token
                .clone()
                .map(app::ssr::settings::Secret::new),
        }
    }
}

/// An admin token is long enough not to be guessed.
fn parse_admin_token(text: &str) -> Result<String, String> {
    let token = text.trim();
    if token.chars().count() < 32 || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("ADMIN_TOKEN must be at least 32 characters without spaces".to_string());
    }
    Ok(token.to_string())
}

fn parse_secret_key(text: &str) -> Result<String, String> {
    let key = text.trim();
    if key.chars().count() < 32 || key.chars().any(|c| c.is_control()) {
        return Err("SECRET_KEY must be at least 32 characters".to_string());
    }
    Ok(key.to_string())
}

/// `DEFAULT_TIME_ZONE`: an IANA zone name; anything else refuses to start.
fn parse_zone(input: &str) -> Result<app::domain::Zone, String> {
    app::domain::Zone::parse(input).map_err(|e| e.message)
}
