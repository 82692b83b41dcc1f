//! Services own transactions: they parse input with the domain types, decide with the domain
//! rules, call storage, append domain events, and commit.
//! Each public verb opens a `tracing` span of its name: the acting user and the ids it acts on.

pub mod accounts;
pub mod admin;
pub mod browse;
pub mod cancellation;
pub mod custody;
pub mod door;
pub mod events;
pub mod feed;
pub mod mail;
pub mod orders;
pub mod payments;
pub mod payouts;
pub mod refunds;
pub mod roles;
pub mod site_keys;
pub mod tickets;
pub mod transfers;
pub mod two_factor;
pub mod users;
