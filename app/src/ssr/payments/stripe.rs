//! The Stripe gateway, through `async-stripe`: PaymentIntents confirmed with a token for the API,
//! Checkout Sessions for browsers, Refunds for late money. Every call that can move money
//! carries an idempotency key.
//!
//! Requests are built with async-stripe's typed builders; answers are read into the few fields
//! we use (lenient types), so an API version that adds or drops unrelated fields — or a Stripe
//! emulator that omits them — does not break payments.

use super::{
    ChargeOutcome, ChargeRequest, CheckoutRequest, CheckoutSession, CheckoutState, GatewayError,
    PaymentGateway, PayoutGateway, TransferRequest,
};
use crate::domain::payout::ProviderAccount;
use std::collections::HashMap;
use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_checkout::CheckoutSessionMode;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, ProductData, RetrieveCheckoutSession,
};
use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_core::payment_intent::CreatePaymentIntent;
use stripe_core::refund::CreateRefund;

/// The fields of a PaymentIntent we read.
#[derive(Debug, miniserde::Deserialize)]
struct IntentAnswer {
    id: String,
    status: String,
    last_payment_error: Option<ErrorAnswer>,
}

#[derive(Debug, miniserde::Deserialize)]
struct ErrorAnswer {
    message: Option<String>,
}

/// Any object of which we only need the id (Refund, PaymentMethod).
#[derive(Debug, miniserde::Deserialize)]
struct IdAnswer {
    id: String,
}

#[derive(Debug, miniserde::Deserialize)]
struct SessionAnswer {
    id: String,
    url: Option<String>,
    status: Option<String>,
    payment_status: Option<String>,
    payment_intent: Option<String>,
}

/// `POST /v1/payment_methods` with a legacy card token (`tok_visa`): Stripe turns it into a
/// PaymentMethod that a PaymentIntent can use.
#[derive(serde::Serialize)]
struct PaymentMethodFromToken<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    card: TokenCard<'a>,
}

#[derive(serde::Serialize)]
struct TokenCard<'a> {
    token: &'a str,
}

/// `POST /v1/accounts`: an Express account that can receive transfers.
#[derive(serde::Serialize)]
struct CreateAccount<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    email: &'a str,
    capabilities: AccountCapabilities,
    metadata: AccountMetadata<'a>,
}

#[derive(serde::Serialize)]
struct AccountCapabilities {
    transfers: Requested,
}

#[derive(serde::Serialize)]
struct Requested {
    requested: bool,
}

#[derive(serde::Serialize)]
struct AccountMetadata<'a> {
    user_id: &'a str,
}

/// `POST /v1/account_links`.
#[derive(serde::Serialize)]
struct CreateAccountLink<'a> {
    account: &'a str,
    refresh_url: &'a str,
    return_url: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, miniserde::Deserialize)]
struct LinkAnswer {
    url: String,
}

/// The fields of an Account that decide its status.
#[derive(Debug, miniserde::Deserialize)]
struct AccountAnswer {
    capabilities: Option<CapabilitiesAnswer>,
    details_submitted: Option<bool>,
    requirements: Option<RequirementsAnswer>,
}

#[derive(Debug, miniserde::Deserialize)]
struct CapabilitiesAnswer {
    transfers: Option<String>,
}

#[derive(Debug, miniserde::Deserialize)]
struct RequirementsAnswer {
    disabled_reason: Option<String>,
}

impl AccountAnswer {
    fn provider_account(&self) -> ProviderAccount {
        ProviderAccount {
            transfers_active: self
                .capabilities
                .as_ref()
                .and_then(|c| c.transfers.as_deref())
                == Some("active"),
            details_submitted: self.details_submitted.unwrap_or(false),
            disabled_reason: self
                .requirements
                .as_ref()
                .and_then(|r| r.disabled_reason.clone()),
        }
    }
}

/// `POST /v1/transfers`.
#[derive(serde::Serialize)]
struct CreateTransfer<'a> {
    amount: i64,
    currency: &'a str,
    destination: &'a str,
    transfer_group: &'a str,
    metadata: TransferMetadata<'a>,
}

#[derive(serde::Serialize)]
struct TransferMetadata<'a> {
    payout: &'a str,
}

#[derive(serde::Serialize)]
struct ListTransfers<'a> {
    transfer_group: &'a str,
    limit: u8,
}

#[derive(Debug, miniserde::Deserialize)]
struct TransferList {
    data: Vec<IdAnswer>,
}

pub struct StripeGateway {
    client: stripe::Client,
}

impl StripeGateway {
    /// A client for `secret_key`, talking to `api_base` (Stripe's own when `None`).
    pub fn new(secret_key: &str, api_base: Option<&str>) -> anyhow::Result<StripeGateway> {
        let mut builder = stripe::ClientBuilder::new(secret_key);
        if let Some(base) = api_base {
            let base = if base.ends_with('/') {
                base.to_string()
            } else {
                format!("{base}/")
            };
            builder = builder.url(base);
        }
        let client = builder
            .build()
            .map_err(|e| anyhow::anyhow!("invalid Stripe settings: {e}"))?;
        Ok(StripeGateway { client })
    }
}

fn key(value: &str) -> Result<RequestStrategy, GatewayError> {
    IdempotencyKey::new(value)
        .map(RequestStrategy::Idempotent)
        .map_err(|e| GatewayError::Provider(anyhow::anyhow!("invalid idempotency key: {e:?}")))
}

fn provider(err: StripeError) -> GatewayError {
    GatewayError::Provider(anyhow::anyhow!("Stripe: {err}"))
}

fn currency(code: &str) -> stripe_types::Currency {
    let Ok(currency) = code.parse();
    currency
}

/// Whether `code` is an ISO 4217 currency Stripe knows (lower case, e.g. `usd`, `eur`).
pub fn is_known_currency(code: &str) -> bool {
    !matches!(currency(code), stripe_types::Currency::Unknown(_))
}

fn metadata(request: &ChargeRequest) -> HashMap<String, String> {
    HashMap::from([
        ("order_id".to_string(), request.order_id.clone()),
        ("charge_id".to_string(), request.charge_id.clone()),
        ("ticket".to_string(), request.description.clone()),
    ])
}

/// A card error (402, or a 400 whose code says the card was declined) is the bank's answer,
/// not a failure of ours: its message is shown to the buyer.
fn decline_message(err: &StripeError) -> Option<String> {
    match err {
        StripeError::Stripe(details, status) => {
            let code = details
                .code
                .as_ref()
                .map(|c| c.as_str().to_string())
                .unwrap_or_default();
            let declined =
                *status == 402 || code == "card_declined" || details.decline_code.is_some();
            declined.then(|| {
                details
                    .message
                    .clone()
                    .unwrap_or_else(|| "Your card was declined.".to_string())
            })
        }
        _ => None,
    }
}

/// Stripe answered with an error about the request itself (4xx other than a rate limit or an
/// idempotency conflict): nothing was made, and the same request will fail the same way.
fn refusal(err: &StripeError) -> Option<String> {
    match err {
        StripeError::Stripe(details, status)
            if (400..500).contains(status) && ![409, 429].contains(status) =>
        {
            Some(
                details
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("Stripe refused the request ({status})")),
            )
        }
        _ => None,
    }
}

fn is_invalid_token(err: &StripeError) -> bool {
    matches!(err, StripeError::Stripe(details, 400 | 404)
        if details.param.as_deref().is_some_and(|p| p.contains("payment_method") || p.contains("token"))
            || details.code.as_ref().is_some_and(|c| c.as_str() == "resource_missing"))
}

impl StripeGateway {
    /// The PaymentMethod id for a token: `pm_…` as is, `tok_…` converted at Stripe.
    async fn payment_method(
        &self,
        token: &str,
        idempotency_key: &str,
    ) -> Result<String, GatewayError> {
        if !token.starts_with("tok_") {
            return Ok(token.to_string());
        }
        let form = PaymentMethodFromToken {
            kind: "card",
            card: TokenCard { token },
        };
        let created: IdAnswer = RequestBuilder::new(StripeMethod::Post, "/payment_methods")
            .form(&form)
            .customize::<IdAnswer>()
            .request_strategy(key(&format!("{idempotency_key}-pm"))?)
            .send(&self.client)
            .await
            .map_err(|err| {
                if is_invalid_token(&err) {
                    GatewayError::InvalidToken
                } else {
                    provider(err)
                }
            })?;
        Ok(created.id)
    }
}

impl PaymentGateway for StripeGateway {
    fn is_test_mode(&self) -> bool {
        false
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError> {
        let payment_method = self
            .payment_method(&request.token, &request.idempotency_key)
            .await?;
        let answer = CreatePaymentIntent::new(request.amount_cents, currency(&request.currency))
            .payment_method(payment_method)
            .confirm(true)
            .metadata(metadata(request))
            .build()
            .customize::<IntentAnswer>()
            .request_strategy(key(&request.idempotency_key)?)
            .send(&self.client)
            .await;
        match answer {
            Ok(intent) if intent.status == "succeeded" => Ok(ChargeOutcome::Succeeded {
                stripe_id: intent.id,
            }),
            Ok(intent)
                if intent.status == "requires_payment_method" || intent.status == "canceled" =>
            {
                let message = intent.last_payment_error.and_then(|e| e.message);
                Ok(ChargeOutcome::Declined {
                    stripe_id: Some(intent.id),
                    message: message.unwrap_or_else(|| "Your card was declined.".to_string()),
                })
            }
            // `processing`, `requires_action`: not settled now; the webhook will tell.
            Ok(intent) => Err(GatewayError::Provider(anyhow::anyhow!(
                "PaymentIntent {} is {}; waiting for Stripe's webhook",
                intent.id,
                intent.status
            ))),
            Err(err) => match decline_message(&err) {
                Some(message) => Ok(ChargeOutcome::Declined {
                    stripe_id: None,
                    message,
                }),
                None if is_invalid_token(&err) => Err(GatewayError::InvalidToken),
                None => Err(provider(err)),
            },
        }
    }

    async fn refund(
        &self,
        stripe_id: &str,
        amount_cents: Option<i64>,
        idempotency_key: &str,
    ) -> Result<String, GatewayError> {
        let mut create = CreateRefund::new().payment_intent(stripe_id.to_string());
        if let Some(amount) = amount_cents {
            create = create.amount(amount);
        }
        let refund = create
            .build()
            .customize::<IdAnswer>()
            .request_strategy(key(idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(provider)?;
        Ok(refund.id)
    }

    async fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutSession, GatewayError> {
        let charge = &request.charge;
        // A line per section's seats or per listing; the charge's whole amount on one line if
        // the order's lines were not given.
        let fallback = [crate::domain::order::CheckoutLine {
            name: request.title.clone(),
            unit_amount_cents: charge.amount_cents,
            quantity: 1,
        }];
        let lines = if request.lines.is_empty() {
            &fallback[..]
        } else {
            &request.lines[..]
        };
        let items: Vec<CreateCheckoutSessionLineItems> = lines
            .iter()
            .map(|line| {
                let mut price =
                    CreateCheckoutSessionLineItemsPriceData::new(currency(&charge.currency));
                price.unit_amount = Some(line.unit_amount_cents);
                price.product_data = Some(ProductData::new(line.name.clone()));
                let mut item = CreateCheckoutSessionLineItems::new();
                item.price_data = Some(price);
                item.quantity = Some(line.quantity);
                item
            })
            .collect();
        let mut intent_data = CreateCheckoutSessionPaymentIntentData::new();
        intent_data.metadata = Some(metadata(charge));
        let session = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .line_items(items)
            .success_url(request.success_url.clone())
            .cancel_url(request.cancel_url.clone())
            .client_reference_id(charge.charge_id.clone())
            .metadata(metadata(charge))
            .payment_intent_data(intent_data)
            .build()
            .customize::<SessionAnswer>()
            .request_strategy(key(&format!("ticketing-checkout-{}", charge.charge_id))?)
            .send(&self.client)
            .await
            .map_err(provider)?;
        let url = session.url.ok_or_else(|| {
            GatewayError::Provider(anyhow::anyhow!(
                "checkout session {} has no url",
                session.id
            ))
        })?;
        Ok(CheckoutSession {
            id: session.id,
            url,
        })
    }

    async fn fetch_checkout(&self, session_id: &str) -> Result<CheckoutState, GatewayError> {
        let session = RetrieveCheckoutSession::new(session_id.to_string())
            .build()
            .customize::<SessionAnswer>()
            .send(&self.client)
            .await
            .map_err(provider)?;
        Ok(
            match (
                session.payment_status.as_deref(),
                session.payment_intent,
                session.status.as_deref(),
            ) {
                (Some("paid"), Some(payment_intent), _) => CheckoutState::Paid { payment_intent },
                (_, _, Some("expired")) => CheckoutState::Expired,
                _ => CheckoutState::Open,
            },
        )
    }
}

impl PayoutGateway for StripeGateway {
    async fn create_payout_account(
        &self,
        user_id: &str,
        email: &str,
    ) -> Result<String, GatewayError> {
        let form = CreateAccount {
            kind: "express",
            email,
            capabilities: AccountCapabilities {
                transfers: Requested { requested: true },
            },
            metadata: AccountMetadata { user_id },
        };
        let account: IdAnswer = RequestBuilder::new(StripeMethod::Post, "/accounts")
            .form(&form)
            .customize::<IdAnswer>()
            .request_strategy(key(&format!("ticketing-account-{user_id}"))?)
            .send(&self.client)
            .await
            .map_err(provider)?;
        Ok(account.id)
    }

    async fn payout_account_link(
        &self,
        account: &str,
        refresh_url: &str,
        return_url: &str,
    ) -> Result<String, GatewayError> {
        let form = CreateAccountLink {
            account,
            refresh_url,
            return_url,
            kind: "account_onboarding",
        };
        let link: LinkAnswer = RequestBuilder::new(StripeMethod::Post, "/account_links")
            .form(&form)
            .customize::<LinkAnswer>()
            .send(&self.client)
            .await
            .map_err(provider)?;
        Ok(link.url)
    }

    async fn fetch_payout_account(&self, account: &str) -> Result<ProviderAccount, GatewayError> {
        if !account.starts_with("acct_")
            || !account
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(GatewayError::Refused(format!(
                "`{account}` is not a Stripe account id"
            )));
        }
        let answer: AccountAnswer =
            RequestBuilder::new(StripeMethod::Get, format!("/accounts/{account}"))
                .customize::<AccountAnswer>()
                .send(&self.client)
                .await
                .map_err(provider)?;
        Ok(answer.provider_account())
    }

    async fn transfer(&self, request: &TransferRequest) -> Result<String, GatewayError> {
        let form = CreateTransfer {
            amount: request.amount_cents,
            currency: &request.currency,
            destination: &request.destination,
            transfer_group: &request.transfer_group,
            metadata: TransferMetadata {
                payout: &request.transfer_group,
            },
        };
        let transfer: IdAnswer = RequestBuilder::new(StripeMethod::Post, "/transfers")
            .form(&form)
            .customize::<IdAnswer>()
            .request_strategy(key(&request.idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(|err| match refusal(&err) {
                Some(message) => GatewayError::Refused(message),
                None => provider(err),
            })?;
        Ok(transfer.id)
    }

    async fn find_transfer(&self, transfer_group: &str) -> Result<Option<String>, GatewayError> {
        let list: TransferList = RequestBuilder::new(StripeMethod::Get, "/transfers")
            .query(&ListTransfers {
                transfer_group,
                limit: 1,
            })
            .customize::<TransferList>()
            .send(&self.client)
            .await
            .map_err(provider)?;
        Ok(list.data.into_iter().next().map(|t| t.id))
    }
}
