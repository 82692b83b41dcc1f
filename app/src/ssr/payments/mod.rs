//! Payment gateways: one trait, two implementations. Orders and charges code talks to
//! [`Gateway`] and never knows which one is active: Stripe when a secret key is configured,
//! otherwise the built-in test mode, which accepts Stripe's published test cards and tokens and
//! moves no money.

pub mod stripe;
pub mod test_mode;
pub mod webhook;

use crate::domain::payout::ProviderAccount;
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
    /// What the page lists: one line per section's seats or per listing, adding up to the
    /// charge's amount.
    pub lines: Vec<crate::domain::order::CheckoutLine>,
    pub success_url: String,
    pub cancel_url: String,
}

/// A transfer of a seller's earnings to their connected account.
#[derive(Debug, Clone)]
pub struct TransferRequest {
    pub amount_cents: i64,
    pub currency: String,
    /// The connected account (`acct_…`).
    pub destination: String,
    /// The same for every attempt of one payout.
    pub idempotency_key: String,
    /// Names the payout at the provider, so a transfer can be found again after the
    /// idempotency key has expired there.
    pub transfer_group: String,
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
    /// The provider answered and said no (an account that cannot receive transfers, a balance
    /// too low): nothing happened, and trying again unchanged will not help.
    #[error("refused by the payment provider: {0}")]
    Refused(String),
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

    /// Gives back a succeeded payment: `amount_cents` of it, or all that is left of it with
    /// `None`; returns the refund id. Repeating it with the same key refunds once.
    fn refund(
        &self,
        stripe_id: &str,
        amount_cents: Option<i64>,
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

/// Stripe Connect: sellers' payout accounts and the transfers that pay them.
pub trait PayoutGateway: Send + Sync {
    /// Creates a payout account for `user_id` (an Express account at Stripe; a simulated one
    /// in test mode). Repeating it for the same user returns the same account.
    fn create_payout_account(
        &self,
        user_id: &str,
        email: &str,
    ) -> impl Future<Output = Result<String, GatewayError>> + Send;

    /// A one-time onboarding link for `account`; the provider sends the seller back to
    /// `return_url`, or to `refresh_url` when the link has expired.
    fn payout_account_link(
        &self,
        account: &str,
        refresh_url: &str,
        return_url: &str,
    ) -> impl Future<Output = Result<String, GatewayError>> + Send;

    /// What the provider says about `account` now.
    fn fetch_payout_account(
        &self,
        account: &str,
    ) -> impl Future<Output = Result<ProviderAccount, GatewayError>> + Send;

    /// Sends money to a connected account; returns the transfer id.
    fn transfer(
        &self,
        request: &TransferRequest,
    ) -> impl Future<Output = Result<String, GatewayError>> + Send;

    /// The transfer made for `transfer_group`, if there is one.
    fn find_transfer(
        &self,
        transfer_group: &str,
    ) -> impl Future<Output = Result<Option<String>, GatewayError>> + Send;
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

    async fn refund(
        &self,
        stripe_id: &str,
        amount_cents: Option<i64>,
        idempotency_key: &str,
    ) -> Result<String, GatewayError> {
        match self {
            Gateway::Test(gateway) => {
                gateway
                    .refund(stripe_id, amount_cents, idempotency_key)
                    .await
            }
            Gateway::Stripe(gateway) => {
                gateway
                    .refund(stripe_id, amount_cents, idempotency_key)
                    .await
            }
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

impl PayoutGateway for Gateway {
    async fn create_payout_account(
        &self,
        user_id: &str,
        email: &str,
    ) -> Result<String, GatewayError> {
        match self {
            Gateway::Test(gateway) => gateway.create_payout_account(user_id, email).await,
            Gateway::Stripe(gateway) => gateway.create_payout_account(user_id, email).await,
        }
    }

    async fn payout_account_link(
        &self,
        account: &str,
        refresh_url: &str,
        return_url: &str,
    ) -> Result<String, GatewayError> {
        match self {
            Gateway::Test(gateway) => {
                gateway
                    .payout_account_link(account, refresh_url, return_url)
                    .await
            }
            Gateway::Stripe(gateway) => {
                gateway
                    .payout_account_link(account, refresh_url, return_url)
                    .await
            }
        }
    }

    async fn fetch_payout_account(&self, account: &str) -> Result<ProviderAccount, GatewayError> {
        match self {
            Gateway::Test(gateway) => gateway.fetch_payout_account(account).await,
            Gateway::Stripe(gateway) => gateway.fetch_payout_account(account).await,
        }
    }

    async fn transfer(&self, request: &TransferRequest) -> Result<String, GatewayError> {
        match self {
            Gateway::Test(gateway) => gateway.transfer(request).await,
            Gateway::Stripe(gateway) => gateway.transfer(request).await,
        }
    }

    async fn find_transfer(&self, transfer_group: &str) -> Result<Option<String>, GatewayError> {
        match self {
            Gateway::Test(gateway) => gateway.find_transfer(transfer_group).await,
            Gateway::Stripe(gateway) => gateway.find_transfer(transfer_group).await,
        }
    }
}
