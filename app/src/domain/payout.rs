//! Payout rules (docs/RULES.md, "Payouts and refunds"): when a seller's earning leaves escrow,
//! what state an earning, a payout and a payout account are in, and how long a failed transfer
//! waits before it is tried again. Pure: storage and the payout job apply them.

use super::{Id, Timestamp};

/// When a sale's earning becomes available: `delay` after the event starts, or after the sale
/// when the ticket names no event date.
pub fn release_at(starts_at: Option<Timestamp>, sold_at: Timestamp, delay_ms: i64) -> Timestamp {
    let from = starts_at.unwrap_or(sold_at);
    Timestamp(from.millis().saturating_add(delay_ms.max(0)))
}

/// Where a seller's payout account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    /// Never connected.
    None,
    /// Created at the provider; the seller has not finished onboarding.
    Onboarding,
    /// Transfers can be sent to it.
    Ready,
    /// The provider has disabled it until the seller acts.
    Restricted,
}

super::error::stored_status!(AccountStatus, "payout account");

impl AccountStatus {
    pub const ALL: [AccountStatus; 4] = [
        AccountStatus::None,
        AccountStatus::Onboarding,
        AccountStatus::Ready,
        AccountStatus::Restricted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::None => "none",
            AccountStatus::Onboarding => "onboarding",
            AccountStatus::Ready => "ready",
            AccountStatus::Restricted => "restricted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AccountStatus::None => "Not connected",
            AccountStatus::Onboarding => "Onboarding not finished",
            AccountStatus::Ready => "Ready for payouts",
            AccountStatus::Restricted => "Restricted by Stripe",
        }
    }
}

/// What the provider says about a connected account, reduced to the facts that decide its
/// status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderAccount {
    /// The `transfers` capability is `active`.
    pub transfers_active: bool,
    /// The seller has submitted the onboarding form.
    pub details_submitted: bool,
    /// Why the provider disabled the account (`requirements.disabled_reason`), if it did.
    pub disabled_reason: Option<String>,
}

impl ProviderAccount {
    pub fn status(&self) -> AccountStatus {
        if self.transfers_active {
            AccountStatus::Ready
        } else if self.details_submitted
            || self
                .disabled_reason
                .as_deref()
                .is_some_and(|r| r.starts_with("rejected") || r == "listed" || r == "under_review")
        {
            // Submitted but not (or no longer) able to receive transfers: the provider holds it.
            AccountStatus::Restricted
        } else {
            AccountStatus::Onboarding
        }
    }
}

/// Where one sale's earning stands, as the seller sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarningStatus {
    /// In escrow until its release date.
    Pending,
    /// Released; waiting for (or in) a payout that has not been sent.
    Available,
    /// Sent in a payout.
    Paid,
    /// The sale was refunded.
    Reversed,
}

impl EarningStatus {
    /// From the earning's facts: refunded, released, and whether a payout that includes it was
    /// sent.
    pub fn of(reversed: bool, released: bool, paid_out: bool) -> EarningStatus {
        match (reversed, released, paid_out) {
            (true, _, _) => EarningStatus::Reversed,
            (false, false, _) => EarningStatus::Pending,
            (false, true, true) => EarningStatus::Paid,
            (false, true, false) => EarningStatus::Available,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EarningStatus::Pending => "pending",
            EarningStatus::Available => "available",
            EarningStatus::Paid => "paid",
            EarningStatus::Reversed => "reversed",
        }
    }
}

/// A payout's state: `pending` until the transfer is confirmed, then `paid`; `failed` when the
/// provider refused it (the money stays available and a later payout sends it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutStatus {
    Pending,
    Paid,
    Failed,
}

super::error::stored_status!(PayoutStatus, "payout");

impl PayoutStatus {
    pub const ALL: [PayoutStatus; 3] = [
        PayoutStatus::Pending,
        PayoutStatus::Paid,
        PayoutStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Pending => "pending",
            PayoutStatus::Paid => "paid",
            PayoutStatus::Failed => "failed",
        }
    }
}

/// A seller's connected account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutAccount {
    pub stripe_account_id: String,
    pub status: AccountStatus,
}

/// One transfer of a seller's available balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    /// Also the transfer's idempotency key.
    pub id: Id,
    pub seller_id: Id,
    pub stripe_account_id: String,
    pub amount_cents: i64,
    pub currency: String,
    pub status: PayoutStatus,
    pub stripe_transfer_id: Option<String>,
    /// Transfers attempted so far.
    pub attempts: i64,
    pub failure_message: Option<String>,
    pub created_at: Timestamp,
}

impl Payout {
    /// The idempotency key of its transfer: the same for every attempt of this payout.
    pub fn transfer_key(&self) -> String {
        format!("ticketing-payout-{}", self.id)
    }
}

/// One sale's earning, as the seller's payouts page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earning {
    pub order_id: Id,
    pub ticket_id: Id,
    pub title: String,
    pub net_cents: i64,
    pub release_at: Timestamp,
    pub status: EarningStatus,
}

/// How long a transfer whose outcome is unknown (the provider unreachable, the answer lost)
/// waits before it is sent again with the same idempotency key: the mail back-off, 30 s
/// doubling to an hour.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    super::mail::retry_delay_ms(attempts)
}

/// How long a payout job holds a claimed transfer before another node (or this one after a
/// restart) may try it: longer than any provider call takes.
pub const CLAIM_MS: i64 = 5 * 60_000;

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn escrow_ends_a_delay_after_the_event_or_else_after_the_sale() {
        let sold = Timestamp(1_000);
        assert_eq!(
            release_at(Some(Timestamp(50 * DAY)), sold, 2 * DAY),
            Timestamp(52 * DAY)
        );
        assert_eq!(release_at(None, sold, 2 * DAY), Timestamp(1_000 + 2 * DAY));
        assert_eq!(release_at(None, sold, 0), sold);
        assert_eq!(
            release_at(Some(Timestamp(i64::MAX - 1)), sold, 2 * DAY),
            Timestamp(i64::MAX),
            "no overflow"
        );
    }

    #[test]
    fn account_status_follows_what_the_provider_says() {
        let account = |transfers_active, details_submitted, reason: Option<&str>| {
            ProviderAccount {
                transfers_active,
                details_submitted,
                disabled_reason: reason.map(str::to_string),
            }
            .status()
        };
        assert_eq!(account(false, false, None), AccountStatus::Onboarding);
        assert_eq!(
            account(false, false, Some("requirements.past_due")),
            AccountStatus::Onboarding
        );
        assert_eq!(account(true, true, None), AccountStatus::Ready);
        assert_eq!(
            account(false, true, Some("requirements.pending_verification")),
            AccountStatus::Restricted
        );
        assert_eq!(
            account(false, false, Some("rejected.fraud")),
            AccountStatus::Restricted
        );
        for status in AccountStatus::ALL {
            assert_eq!(AccountStatus::parse(status.as_str()), Ok(status));
        }
        assert!(AccountStatus::parse("READY").is_err());
        for status in PayoutStatus::ALL {
            assert_eq!(PayoutStatus::parse(status.as_str()), Ok(status));
        }
    }

    #[test]
    fn an_earning_is_reversed_before_anything_else() {
        assert_eq!(EarningStatus::of(true, true, true), EarningStatus::Reversed);
        assert_eq!(
            EarningStatus::of(false, false, false),
            EarningStatus::Pending
        );
        assert_eq!(
            EarningStatus::of(false, true, false),
            EarningStatus::Available
        );
        assert_eq!(EarningStatus::of(false, true, true), EarningStatus::Paid);
    }
}
