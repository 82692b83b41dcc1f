//! The Ticketing application, compiled twice: with `ssr` for the server (pages, server functions,
//! services and storage) and with `hydrate` for the browser (the same pages, made interactive).
#![recursion_limit = "256"]

pub mod domain;
pub mod error;
pub mod server_fns;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod ssr;

pub use error::{AppError, ErrorDetail};
pub use ui::{App, shell};
