//! Run-time settings the services need. The binary fills them from flags and environment.

/// Settings shared by every request.
#[derive(Clone)]
pub struct Settings {
    /// Where users reach the site, e.g. `https://tickets.example.org`; decides cookie security and
    /// which `Origin` counts as same-site.
    pub public_url: String,
    /// How long an order holds its ticket, in milliseconds.
    pub reservation_window_ms: i64,
    /// ISO currency code of every price, lower case.
    pub currency: String,
    /// Sign-in and sign-up attempts per client address per minute; 0 disables the limit.
    pub auth_rate_limit: u32,
    /// Live reservations one buyer may hold at once; 0 disables the limit.
    pub max_live_orders: u32,
    /// Reservations per account per minute; 0 disables the limit.
    pub order_rate_limit: u32,
    /// The buyer's and the seller's fee (`BUYER_FEE_PERCENT`, `SELLER_FEE_PERCENT`).
    pub fees: crate::domain::fees::Fees,
    /// The most a listing may ask, as a share of its face value (`RESALE_PRICE_CAP_PERCENT`).
    pub resale_cap: Option<crate::domain::fees::Percent>,
    /// The zone the listing form offers a seller who never chose one (`DEFAULT_TIME_ZONE`).
    pub default_time_zone: crate::domain::Zone,
    /// How long a seller's earning stays in escrow after the event starts (or after the sale,
    /// without an event date), in milliseconds (`PAYOUT_DELAY`).
    pub payout_delay_ms: i64,
    /// Signs Stripe's webhook deliveries (`STRIPE_WEBHOOK_SECRET`); without it the webhook
    /// endpoint refuses every delivery.
    pub stripe_webhook_secret: Option<Secret>,
    /// The bearer token of integrators (`/api/events`) and of Prometheus (`/metrics`)
    /// (`ADMIN_TOKEN`); without it only admins' sessions read the event log and `/metrics` is
    /// closed.
    pub admin_token: Option<Secret>,
}

/// A secret value: never printed, never serialized.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("public_url", &self.public_url)
            .field("reservation_window_ms", &self.reservation_window_ms)
            .field("currency", &self.currency)
            .field("auth_rate_limit", &self.auth_rate_limit)
            .field("max_live_orders", &self.max_live_orders)
            .field("order_rate_limit", &self.order_rate_limit)
            .field("fees", &self.fees)
            .field("resale_cap", &self.resale_cap)
            .field("default_time_zone", &self.default_time_zone)
            .field("payout_delay_ms", &self.payout_delay_ms)
            .field(
                "stripe_webhook_secret",
                &self.stripe_webhook_secret.as_ref().map(|_| "set"),
            )
            .finish()
    }
}

impl Settings {
    /// Cookies get `Secure` when the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The origin (`scheme://host[:port]`) browsers send in `Origin` for our own pages.
    pub fn public_origin(&self) -> &str {
        let url = self.public_url.trim_end_matches('/');
        match url.find("://") {
            Some(scheme_end) => match url[scheme_end + 3..].find('/') {
                Some(path_start) => &url[..scheme_end + 3 + path_start],
                None => url,
            },
            None => url,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_url: "http://127.0.0.1:3000".to_string(),
            reservation_window_ms: 15 * 60 * 1000,
            currency: "usd".to_string(),
            auth_rate_limit: 20,
            max_live_orders: 4,
            order_rate_limit: 30,
            fees: Default::default(),
            resale_cap: None,
            default_time_zone: crate::domain::Zone::UTC,
            payout_delay_ms: 2 * 86_400_000,
            stripe_webhook_secret: None,
            admin_token: None,
        }
    }
}
