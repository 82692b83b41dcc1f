//! The built-in test-mode gateway: no Stripe key, no network, no money. It accepts
//! exactly Stripe's published test cards and tokens, answers the way Stripe would, and remembers
//! idempotency keys so a repeated request gets the first answer, as at Stripe.

use super::{
    ChargeOutcome, ChargeRequest, CheckoutRequest, CheckoutSession, CheckoutState, GatewayError,
    PaymentGateway, PayoutGateway, TransferRequest,
};
use crate::domain::payout::ProviderAccount;
use std::collections::HashMap;
use std::sync::Mutex;

/// Stripe's message for a generic decline.
pub const DECLINED_MESSAGE: &str = "Your card was declined.";

/// Accepted card numbers and what they do: the test token each stands for.
const TEST_CARDS: &[(&str, &str)] = &[
    ("4242424242424242", "tok_visa"),
    ("4000000000000002", "tok_chargeDeclined"),
];

/// The token a test card number stands for (spaces and dashes ignored), or `None` for any
/// other number: test mode never takes a real card.
pub fn token_for_test_card(number: &str) -> Option<&'static str> {
    let digits: String = number.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    TEST_CARDS
        .iter()
        .find(|(card, _)| *card == digits)
        .map(|(_, token)| *token)
}

#[derive(Default)]
pub struct TestGateway {
    /// Idempotency key → the answer first given for it.
    charges: Mutex<HashMap<String, ChargeOutcome>>,
    /// Idempotency key → refund id.
    refunds: Mutex<HashMap<String, String>>,
    /// Idempotency key → the transfer first made for it.
    transfers: Mutex<HashMap<String, Transfer>>,
    /// What the next transfers do, for tests of failures (empty: they succeed).
    script: Mutex<Vec<TransferStep>>,
}

/// A simulated transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub id: String,
    pub amount_cents: i64,
    pub currency: String,
    pub destination: String,
    pub transfer_group: String,
}

/// How one scripted transfer call goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferStep {
    /// The transfer is made but its answer never arrives (as with a crash, or a connection
    /// that drops, between the provider's call and our record).
    LoseAnswer,
    /// The provider cannot be reached; nothing is made.
    Unreachable,
    /// The provider refuses it with this message; nothing is made.
    Refuse(String),
}

impl TestGateway {
    /// How many distinct refunds were issued (tests check that late money is refunded once).
    pub fn refund_count(&self) -> usize {
        self.refunds.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Every distinct transfer made, in no particular order.
    pub fn transfers(&self) -> Vec<Transfer> {
        self.transfers
            .lock()
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The next transfer calls go as `steps` say, in order; later ones succeed.
    pub fn script_transfers(&self, steps: Vec<TransferStep>) {
        if let Ok(mut script) = self.script.lock() {
            *script = steps;
        }
    }

    /// How many distinct payments were attempted.
    pub fn charge_count(&self) -> usize {
        self.charges.lock().map(|c| c.len()).unwrap_or(0)
    }
}

fn test_id(prefix: &str) -> String {
    format!("{prefix}_test_{}", uuid::Uuid::now_v7().simple())
}

impl PaymentGateway for TestGateway {
    fn is_test_mode(&self) -> bool {
        true
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError> {
        let outcome = match request.token.as_str() {
            "tok_visa" | "pm_card_visa" => ChargeOutcome::Succeeded {
                stripe_id: test_id("pi"),
            },
            "tok_chargeDeclined" | "pm_card_chargeDeclined" => ChargeOutcome::Declined {
                stripe_id: Some(test_id("pi")),
                message: DECLINED_MESSAGE.to_string(),
            },
            _ => return Err(GatewayError::InvalidToken),
        };
        let mut charges = self
            .charges
            .lock()
            .map_err(|_| GatewayError::Provider(anyhow::anyhow!("poisoned")))?;
        Ok(charges
            .entry(request.idempotency_key.clone())
            .or_insert(outcome)
            .clone())
    }

    async fn refund(
        &self,
        _stripe_id: &str,
        _amount_cents: Option<i64>,
        idempotency_key: &str,
    ) -> Result<String, GatewayError> {
        let mut refunds = self
            .refunds
            .lock()
            .map_err(|_| GatewayError::Provider(anyhow::anyhow!("poisoned")))?;
        Ok(refunds
            .entry(idempotency_key.to_string())
            .or_insert_with(|| test_id("re"))
            .clone())
    }

    async fn create_checkout(
        &self,
        _request: &CheckoutRequest,
    ) -> Result<CheckoutSession, GatewayError> {
        Err(GatewayError::Unsupported)
    }

    async fn fetch_checkout(&self, _session_id: &str) -> Result<CheckoutState, GatewayError> {
        Err(GatewayError::Unsupported)
    }
}

fn poisoned<T>(_: T) -> GatewayError {
    GatewayError::Provider(anyhow::anyhow!("poisoned"))
}

impl PayoutGateway for TestGateway {
    async fn create_payout_account(
        &self,
        user_id: &str,
        _email: &str,
    ) -> Result<String, GatewayError> {
        // The same user always gets the same simulated account, as with Stripe's idempotency.
        let simple: String = user_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        Ok(format!("acct_test_{simple}"))
    }

    async fn payout_account_link(
        &self,
        _account: &str,
        _refresh_url: &str,
        _return_url: &str,
    ) -> Result<String, GatewayError> {
        // Simulated accounts are ready at once: there is no onboarding to link to.
        Err(GatewayError::Unsupported)
    }

    async fn fetch_payout_account(&self, _account: &str) -> Result<ProviderAccount, GatewayError> {
        Ok(ProviderAccount {
            transfers_active: true,
            details_submitted: true,
            disabled_reason: None,
        })
    }

    async fn transfer(&self, request: &TransferRequest) -> Result<String, GatewayError> {
        let step = {
            let mut script = self.script.lock().map_err(poisoned)?;
            (!script.is_empty()).then(|| script.remove(0))
        };
        match step {
            Some(TransferStep::Unreachable) => {
                return Err(GatewayError::Provider(anyhow::anyhow!(
                    "test mode: the provider is unreachable"
                )));
            }
            Some(TransferStep::Refuse(message)) => return Err(GatewayError::Refused(message)),
            Some(TransferStep::LoseAnswer) | None => {}
        }
        let transfer = self
            .transfers
            .lock()
            .map_err(poisoned)?
            .entry(request.idempotency_key.clone())
            .or_insert_with(|| Transfer {
                id: test_id("tr"),
                amount_cents: request.amount_cents,
                currency: request.currency.clone(),
                destination: request.destination.clone(),
                transfer_group: request.transfer_group.clone(),
            })
            .clone();
        if step == Some(TransferStep::LoseAnswer) {
            return Err(GatewayError::Provider(anyhow::anyhow!(
                "test mode: the transfer was made but its answer was lost"
            )));
        }
        Ok(transfer.id)
    }

    async fn find_transfer(&self, transfer_group: &str) -> Result<Option<String>, GatewayError> {
        Ok(self
            .transfers
            .lock()
            .map_err(poisoned)?
            .values()
            .find(|t| t.transfer_group == transfer_group)
            .map(|t| t.id.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(token: &str, key: &str) -> ChargeRequest {
        ChargeRequest {
            amount_cents: 2000,
            currency: "usd".into(),
            token: token.into(),
            idempotency_key: key.into(),
            order_id: "o".into(),
            charge_id: "c".into(),
            description: "Gig".into(),
        }
    }

    #[test]
    fn only_stripes_test_cards_are_accepted() {
        assert_eq!(token_for_test_card("4242 4242 4242 4242"), Some("tok_visa"));
        assert_eq!(
            token_for_test_card("4000-0000-0000-0002"),
            Some("tok_chargeDeclined")
        );
        assert_eq!(token_for_test_card("4111 1111 1111 1111"), None);
        assert_eq!(token_for_test_card(""), None);
    }

    #[tokio::test]
    async fn answers_like_stripe_and_repeats_the_first_answer_for_a_key() {
        let gateway = TestGateway::default();
        let paid = gateway
            .charge(&request("pm_card_visa", "k1"))
            .await
            .unwrap();
        assert!(matches!(paid, ChargeOutcome::Succeeded { .. }));
        assert_eq!(
            gateway
                .charge(&request("pm_card_visa", "k1"))
                .await
                .unwrap(),
            paid,
            "same key, same payment"
        );
        assert_eq!(gateway.charge_count(), 1);
        let declined = gateway
            .charge(&request("tok_chargeDeclined", "k2"))
            .await
            .unwrap();
        assert!(
            matches!(declined, ChargeOutcome::Declined { ref message, .. } if message == DECLINED_MESSAGE)
        );
        assert!(matches!(
            gateway.charge(&request("tok_mastercard", "k3")).await,
            Err(GatewayError::InvalidToken)
        ));
        let refund = gateway.refund("pi_1", None, "r1").await.unwrap();
        assert_eq!(gateway.refund("pi_1", None, "r1").await.unwrap(), refund);
        assert_eq!(gateway.refund_count(), 1);
    }
}
