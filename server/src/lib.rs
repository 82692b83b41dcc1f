//! The `ticketing` server: configuration, startup, telemetry, the JSON API, request-level
//! security (CSRF, headers, body limits) and the embedded site assets. Business rules live in the
//! `app` crate; this crate only wires them to HTTP.

pub mod api;
pub mod assets;
pub mod config;
pub mod encoding;
pub mod media;
pub mod memory;
pub mod metrics;
pub mod operator;
pub mod page_cache;
pub mod payments;
pub mod render_limit;
pub mod security;
pub mod seed;
pub mod serve;
pub mod sessions;
pub mod startup;
pub mod telemetry;

pub use config::{Command, Config};
pub use startup::Application;
