//! Pure business rules: parsing user input into domain types and deciding what is allowed.
//! Nothing here touches a database, a clock, the network or a web framework, so it compiles to wasm
//! and every rule can be tested with fixed inputs.

pub mod account;
pub mod audit;
pub mod best_available;
pub mod browse;
pub mod charge;
pub mod chart;
pub mod custody;
pub mod duration;
pub mod email;
pub mod error;
pub mod event;
pub mod fees;
pub mod id;
pub mod ledger;
pub mod mail;
pub mod money;
pub mod order;
pub mod password;
pub mod payout;
pub mod role;
pub mod text;
pub mod ticket;
pub mod time;
pub mod two_factor;
pub mod zone;

pub use browse::BrowseQuery;
pub use charge::{Charge, ChargeStatus};
pub use duration::parse_duration;
pub use email::Email;
pub use error::{DomainError, ErrorDetail, UnknownStatus};
pub use id::Id;
pub use money::{Price, format_count, format_money};
pub use order::{Order, OrderLine, OrderStatus};
pub use password::Password;
pub use ticket::{Category, Ticket, TicketDraft, TicketStatus, Title};
pub use time::Timestamp;
pub use zone::Zone;
