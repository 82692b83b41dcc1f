//! Payment gateways: one trait, two implementations. Orders and charges code talks to
//! [`Gateway`] and never knows which one is active: Stripe when a secret key is configured,
//! otherwise the built-in test mode, which accepts Stripe's published test cards and tokens and
//! moves no money.

pub mod stripe;
pub mod test_mode;
pub mod webhook;

use std::future::Future;

/// What to charge, and the key that makes repeating the request harmless.
#[derive(Debug, Clone)]
pub struct ChargeRequest {
    pub amount_cents: i64,
    /// Lower-case ISO code, e.g. `usd`.
    pub currency: String,
    /// A Stripe PaymentMethod or token id (`pm_card_visa`, `tok_visa`).
    pub token: String,
    pub idempotency_key: String,
    pub order_id: String,
    pub charge_id: String,
    pub description: String,
}

/// How the provider answered a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// The money is taken; `stripe_id` is the PaymentIntent.
    Succeeded { stripe_id: String },
    /// The bank said no; `message` is its reason, shown to the buyer.
    Declined {
        stripe_id: Option<String>,
        message: String,
    },
}

/// A browser checkout page at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSession {
    pub id: String,
    pub url: String,
}

/// What the provider says about a checkout session when the buyer comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutState {
    Paid { payment_intent: String },
    Open,
    Expired,
}

#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    pub charge: ChargeRequest,
    pub title: String,
    pub success_url: String,
    pub cancel_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The token is not one this gateway accepts (a client error, not a decline).
    #[error("The payment token is not valid")]
    InvalidToken,
    /// This gateway has no such feature (test mode has no hosted checkout).
    #[error("not supported by this payment gateway")]
    Unsupported,
    /// The provider could not be reached or answered something unexpected; the outcome of the
    /// call is unknown.
    #[error("payment provider error: {0:#}")]
    Provider(anyhow::Error),
}

/// Everything the application asks of a payment provider.
pub trait PaymentGateway: Send + Sync {
    /// True for the built-in test mode (pages show a banner and a test card form).
    fn is_test_mode(&self) -> bool;

    /// Takes the money now, or reports the decline.
    fn charge(
        &self,
        request: &ChargeRequest,
    ) -> impl Future<Output = Result<ChargeOutcome, GatewayError>> + Send;

    /// Gives back all of a succeeded payment; returns the refund id. Repeating it with the
    /// same key refunds once.
    fn refund(
        &self,
        stripe_id: &str,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<String, GatewayError>> + Send;

    /// Opens a hosted checkout page for a browser.
    fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> impl Future<Output = Result<CheckoutSession, GatewayError>> + Send;

    /// The real state of a checkout session (never trust the return URL's query string).
    fn fetch_checkout(
        &self,
        session_id: &str,
    ) -> impl Future<Output = Result<CheckoutState, GatewayError>> + Send;
}

/// The active gateway.
pub enum Gateway {
    Test(test_mode::TestGateway),
    Stripe(Box<stripe::StripeGateway>),
}

impl Gateway {
    pub fn test_mode() -> Gateway {
        Gateway::Test(test_mode::TestGateway::default())
    }
}

impl PaymentGateway for Gateway {
    fn is_test_mode(&self) -> bool {
        match self {
            Gateway::Test(gateway) => gateway.is_test_mode(),
            Gateway::Stripe(gateway) => gateway.is_test_mode(),
        }
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError> {
        match self {
            Gateway::Test(gateway) => gateway.charge(request).await,
            Gateway::Stripe(gateway) => gateway.charge(request).await,
        }
    }

    async fn refund(&self, stripe_id: &str, idempotency_key: &str) -> Result<String, GatewayError> {
        match self {
            Gateway::Test(gateway) => gateway.refund(stripe_id, idempotency_key).await,
            Gateway::Stripe(gateway) => gateway.refund(stripe_id, idempotency_key).await,
        }
    }

    async fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutSession, GatewayError> {
        match self {
            Gateway::Test(gateway) => gateway.create_checkout(request).await,
            Gateway::Stripe(gateway) => gateway.create_checkout(request).await,
        }
    }

    async fn fetch_checkout(&self, session_id: &str) -> Result<CheckoutState, GatewayError> {
        match self {
            Gateway::Test(gateway) => gateway.fetch_checkout(session_id).await,
            Gateway::Stripe(gateway) => gateway.fetch_checkout(session_id).await,
        }
    }
}
