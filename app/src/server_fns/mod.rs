//! Server functions: thin adapters between the pages and the services. Each reads the session,
//! calls one service and maps the result for the page. They live under `/_fn/` so that `/api`
//! belongs to the JSON API alone.

pub mod account;
pub mod admin;
pub mod auth;
pub mod check_in;
pub mod events;
pub mod orders;
pub mod organise;
pub mod payments;
pub mod payouts;
pub mod tickets;

pub use account::*;
pub use admin::*;
pub use auth::*;
pub use check_in::*;
pub use events::*;
pub use orders::*;
pub use organise::*;
pub use payments::*;
pub use payouts::*;
pub use tickets::*;
