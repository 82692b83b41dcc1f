//! The double-entry ledger (docs/RULES.md, "Fees and the resale cap"), as pure rules: which entries each movement of money
//! makes, and how balances follow from entries. Storage writes these transactions in the same
//! database transaction as the sale, release, payout or refund that causes them; balances are
//! always sums of entries, never counters.
//!
//! Signs: an entry's `cents` is positive for a debit and negative for a credit, so every
//! transaction sums to zero. `Provider` is money the payment provider holds for the platform
//! (an asset: debit-normal); the sellers' accounts and the platform's fees are what that money
//! is owed to (credit-normal). Hence, at every moment,
//! `Provider = pending + available + platform fees`.

use super::Id;
use super::fees::Breakdown;

/// Where money sits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    /// Held by the payment provider: card payments in; refunds and transfers out.
    Provider,
    /// What the platform has earned in fees.
    PlatformFees,
    /// A seller's earnings in escrow, until the event is over (`PAYOUT_DELAY`).
    SellerPending(Id),
    /// A seller's earnings that may be paid out; below zero when a refund after a payout left
    /// the seller owing.
    SellerAvailable(Id),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub account: Account,
    /// Positive: debit. Negative: credit.
    pub cents: i64,
}

/// What caused a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sale,
    Release,
    Payout,
    Refund,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sale => "sale",
            Kind::Release => "release",
            Kind::Payout => "payout",
            Kind::Refund => "refund",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub kind: Kind,
    pub entries: Vec<Entry>,
}

impl Transaction {
    fn new(kind: Kind, entries: Vec<(Account, i64)>) -> Transaction {
        Transaction {
            kind,
            entries: entries
                .into_iter()
                .filter(|(_, cents)| *cents != 0)
                .map(|(account, cents)| Entry { account, cents })
                .collect(),
        }
    }

    /// Debits equal credits.
    pub fn is_balanced(&self) -> bool {
        self.entries
            .iter()
            .map(|e| i128::from(e.cents))
            .sum::<i128>()
            == 0
    }
}

/// Where a sale's earning is when it is refunded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Earning {
    Pending,
    Available,
    /// Included in a payout already: the refund leaves the seller owing it.
    PaidOut,
}

/// The buyer paid the total: the provider holds it, the seller is owed the net (in escrow) and
/// the platform has earned both fees.
pub fn sale(seller: &Id, amounts: &Breakdown) -> Transaction {
    Transaction::new(
        Kind::Sale,
        vec![
            (Account::Provider, amounts.total_cents),
            (
                Account::SellerPending(seller.clone()),
                -amounts.seller_net_cents,
            ),
            (Account::PlatformFees, -amounts.platform_cents()),
        ],
    )
}

/// The escrow ends: a sale's net earning becomes available.
pub fn release(seller: &Id, net_cents: i64) -> Transaction {
    Transaction::new(
        Kind::Release,
        vec![
            (Account::SellerPending(seller.clone()), net_cents),
            (Account::SellerAvailable(seller.clone()), -net_cents),
        ],
    )
}

/// A transfer of `cents` to the seller's payout account.
pub fn payout(seller: &Id, cents: i64) -> Transaction {
    Transaction::new(
        Kind::Payout,
        vec![
            (Account::SellerAvailable(seller.clone()), cents),
            (Account::Provider, -cents),
        ],
    )
}

/// The buyer gets the whole total back; the fees and the seller's earning are reversed from
/// wherever the earning is now (after a payout, from the available balance, which may go
/// below zero).
pub fn refund(seller: &Id, amounts: &Breakdown, earning: Earning) -> Transaction {
    let seller_account = match earning {
        Earning::Pending => Account::SellerPending(seller.clone()),
        Earning::Available | Earning::PaidOut => Account::SellerAvailable(seller.clone()),
    };
    Transaction::new(
        Kind::Refund,
        vec![
            (Account::Provider, -amounts.total_cents),
            (Account::PlatformFees, amounts.platform_cents()),
            (seller_account, amounts.seller_net_cents),
        ],
    )
}

/// The balance of `account` after `entries`, in its natural sign: what the provider holds for
/// `Provider`, what is owed (or earned) for the others.
pub fn balance<'a>(entries: impl IntoIterator<Item = &'a Entry>, account: &Account) -> i64 {
    let sum: i64 = entries
        .into_iter()
        .filter(|e| &e.account == account)
        .map(|e| e.cents)
        .sum();
    match account {
        Account::Provider => sum,
        _ => -sum,
    }
}

/// What a payout may send now: the whole available balance, when there is any.
pub fn payable(available_cents: i64) -> Option<i64> {
    (available_cents > 0).then_some(available_cents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Price;
    use crate::domain::fees::{Fees, Percent};
    use proptest::prelude::*;

    fn seller(n: usize) -> Id {
        Id::from_trusted(format!("00000000-0000-7000-8000-00000000000{n}"))
    }

    fn fees() -> Fees {
        Fees {
            buyer: Percent::parse("10").unwrap(),
            seller: Percent::parse("5").unwrap(),
        }
    }

    /// The worked example of the closing note: one 20.50 sale, released, paid out, refunded.
    #[test]
    fn a_sale_released_paid_out_and_refunded() {
        let s = seller(1);
        let amounts = fees().breakdown(Price::from_cents(2050).unwrap());
        let journal = [
            sale(&s, &amounts),
            release(&s, amounts.seller_net_cents),
            payout(&s, 1947),
            refund(&s, &amounts, Earning::PaidOut),
        ];
        assert!(journal.iter().all(Transaction::is_balanced));
        assert_eq!(
            journal[0].entries,
            vec![
                Entry {
                    account: Account::Provider,
                    cents: 2255
                },
                Entry {
                    account: Account::SellerPending(s.clone()),
                    cents: -1947
                },
                Entry {
                    account: Account::PlatformFees,
                    cents: -308
                },
            ]
        );
        let entries: Vec<&Entry> = journal.iter().flat_map(|t| &t.entries).collect();
        let of = |account: Account| balance(entries.iter().copied(), &account);
        assert_eq!(of(Account::SellerPending(s.clone())), 0);
        assert_eq!(
            of(Account::SellerAvailable(s.clone())),
            -1947,
            "the seller owes the payout"
        );
        assert_eq!(of(Account::PlatformFees), 0, "fees are given back too");
        assert_eq!(
            of(Account::Provider),
            -1947,
            "the provider is out what it transferred"
        );
        assert_eq!(payable(of(Account::SellerAvailable(s))), None);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Sell { seller: usize, cents: i64 },
        Release(usize),
        Pay(usize),
        Refund(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0usize..3, 1i64..50_000).prop_map(|(seller, cents)| Op::Sell { seller, cents }),
            (0usize..40).prop_map(Op::Release),
            (0usize..3).prop_map(Op::Pay),
            (0usize..40).prop_map(Op::Refund),
        ]
    }

    struct Sale {
        seller: Id,
        amounts: Breakdown,
        earning: Earning,
        refunded: bool,
    }

    proptest! {
        /// Random days of a marketplace: sales, escrow releases, payouts and refunds in any
        /// order. Every transaction balances; the provider always holds exactly what is owed
        /// to sellers plus the platform's fees; nobody is paid more than they earned from sales
        /// that stand; a balance is below zero only after a refund of money already paid out.
        #[test]
        fn money_in_equals_money_out_plus_what_is_held(ops in prop::collection::vec(op(), 1..80)) {
            let fees = fees();
            let mut journal: Vec<Transaction> = Vec::new();
            let mut sales: Vec<Sale> = Vec::new();
            let mut paid_out = [0i64; 3];
            let mut refunded_after_payout = [false; 3];
            for op in ops {
                match op {
                    Op::Sell { seller: n, cents } => {
                        let amounts = fees.breakdown(Price::from_cents(cents).unwrap());
                        journal.push(sale(&seller(n), &amounts));
                        sales.push(Sale { seller: seller(n), amounts, earning: Earning::Pending, refunded: false });
                    }
                    Op::Release(i) => {
                        if let Some(s) = sales.get_mut(i).filter(|s| !s.refunded && s.earning == Earning::Pending) {
                            journal.push(release(&s.seller, s.amounts.seller_net_cents));
                            s.earning = Earning::Available;
                        }
                    }
                    Op::Pay(n) => {
                        let entries: Vec<&Entry> = journal.iter().flat_map(|t| &t.entries).collect();
                        let available = balance(entries, &Account::SellerAvailable(seller(n)));
                        if let Some(cents) = payable(available) {
                            journal.push(payout(&seller(n), cents));
                            paid_out[n] += cents;
                            for s in sales.iter_mut().filter(|s| s.seller == seller(n) && s.earning == Earning::Available && !s.refunded) {
                                s.earning = Earning::PaidOut;
                            }
                        }
                    }
                    Op::Refund(i) => {
                        if let Some(s) = sales.get_mut(i).filter(|s| !s.refunded) {
                            journal.push(refund(&s.seller, &s.amounts, s.earning));
                            s.refunded = true;
                            if s.earning == Earning::PaidOut {
                                let n = (0..3).find(|&n| seller(n) == s.seller).unwrap();
                                refunded_after_payout[n] = true;
                            }
                        }
                    }
                }
                prop_assert!(journal.iter().all(Transaction::is_balanced));
                let entries: Vec<&Entry> = journal.iter().flat_map(|t| &t.entries).collect();
                let of = |account: Account| balance(entries.iter().copied(), &account);
                let owed: i64 = (0..3)
                    .map(|n| of(Account::SellerPending(seller(n))) + of(Account::SellerAvailable(seller(n))))
                    .sum();
                prop_assert_eq!(of(Account::Provider), owed + of(Account::PlatformFees));
                for n in 0..3 {
                    let earned_and_standing: i64 = sales
                        .iter()
                        .filter(|s| s.seller == seller(n) && !s.refunded && s.earning != Earning::Pending)
                        .map(|s| s.amounts.seller_net_cents)
                        .sum();
                    let available = of(Account::SellerAvailable(seller(n)));
                    prop_assert_eq!(paid_out[n] + available, earned_and_standing);
                    prop_assert!(of(Account::SellerPending(seller(n))) >= 0);
                    prop_assert!(available >= 0 || refunded_after_payout[n]);
                }
            }
        }
    }
}
