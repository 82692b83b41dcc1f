//! Charges: one attempt to take the money for an order, and what became of it.

use super::{Id, Order, Price, Timestamp};
use serde::{Deserialize, Serialize};

pub const PAYMENT_IN_PROGRESS: &str = "A payment for this order is already in progress";
pub const LATE_PAYMENT_REFUNDED: &str =
    "The reservation ran out before the payment arrived, so the payment was refunded in full";

/// A charge is recorded before the provider is called (`Created`), then settles exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChargeStatus {
    Created,
    Failed,
    Completed,
    Refunded,
}

impl ChargeStatus {
    /// Every status.
    pub const ALL: [ChargeStatus; 4] = [
        ChargeStatus::Created,
        ChargeStatus::Failed,
        ChargeStatus::Completed,
        ChargeStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChargeStatus::Created => "created",
            ChargeStatus::Failed => "failed",
            ChargeStatus::Completed => "completed",
            ChargeStatus::Refunded => "refunded",
        }
    }
}

super::error::stored_status!(ChargeStatus, "charge");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Charge {
    pub id: Id,
    pub order_id: Id,
    pub status: ChargeStatus,
    pub amount: Price,
    pub currency: String,
    /// Sent with every provider call for this charge, so a retry can never charge twice.
    pub idempotency_key: String,
    /// The provider's PaymentIntent or Checkout Session id.
    pub stripe_id: Option<String>,
    pub stripe_refund_id: Option<String>,
    /// The bank's reason for a decline, or why the money was given back.
    pub failure_message: Option<String>,
    pub created_at: Timestamp,
}

impl Charge {
    /// The charge for `order`: its total as reserved (the price and the buyer's fee then, never
    /// the ticket's current price), with an idempotency key derived from the order, so every
    /// attempt for one order is one payment at the provider.
    pub fn for_order(id: Id, order: &Order, currency: &str, now: Timestamp) -> Charge {
        Charge {
            id,
            order_id: order.id.clone(),
            status: ChargeStatus::Created,
            amount: Price::from_stored(order.total_cents()),
            currency: currency.to_ascii_lowercase(),
            idempotency_key: format!("ticketing-order-{}", order.id),
            stripe_id: None,
            stripe_refund_id: None,
            failure_message: None,
            created_at: now,
        }
    }

    /// The idempotency key of the refund of this charge.
    pub fn refund_key(&self) -> String {
        format!("ticketing-refund-{}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Category, Ticket, TicketStatus};

    #[test]
    fn a_charge_takes_the_reserved_price_with_a_key_per_order() {
        let ticket = Ticket {
            id: Id::from_trusted("t".into()),
            title: "Gig".into(),
            price: Price::from_stored(2500),
            face_value: None,
            seller_id: Id::from_trusted("s".into()),
            order_id: None,
            version: 0,
            category: Category::Concert,
            venue: None,
            starts_at: None,
            time_zone: None,
            status: TicketStatus::Available,
            reserved_until: None,
            resold_from: None,
            created_at: Timestamp(0),
            event_seat: None,
        };
        let order = Order::reserve(
            Id::from_trusted("o1".into()),
            &ticket,
            &Id::from_trusted("b".into()),
            Timestamp(0),
            1000,
            &crate::domain::fees::Fees {
                buyer: crate::domain::fees::Percent::parse("10").unwrap(),
                seller: crate::domain::fees::Percent::parse("5").unwrap(),
            },
        );
        let charge = Charge::for_order(Id::from_trusted("c1".into()), &order, "USD", Timestamp(5));
        assert_eq!(
            charge.amount,
            Price::from_stored(2750),
            "the snapshot's total (price and buyer fee), not the ticket's price now"
        );
        assert_eq!(charge.currency, "usd");
        assert_eq!(charge.status, ChargeStatus::Created);
        let again = Charge::for_order(Id::from_trusted("c2".into()), &order, "usd", Timestamp(9));
        assert_eq!(
            charge.idempotency_key, again.idempotency_key,
            "one key per order"
        );
        assert_ne!(charge.refund_key(), again.refund_key());
        for status in [
            ChargeStatus::Created,
            ChargeStatus::Failed,
            ChargeStatus::Completed,
            ChargeStatus::Refunded,
        ] {
            assert_eq!(ChargeStatus::parse(status.as_str()), Ok(status));
        }
    }
}
