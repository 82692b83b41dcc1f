//! Everything that only exists on the server: storage (sqlx), services (transactions around the
//! domain rules), sessions, password hashing, rate limiting and the shared state. Compiled only
//! with the `ssr` feature; the browser bundle never sees it.

pub mod browse_cache;
pub mod clock;
pub mod context;
pub mod db;
pub mod error_response;
pub mod fn_context;
pub mod images;
pub mod mail;
pub mod page_security;
pub mod passwords;
pub mod payments;
pub mod qr;
pub mod rate_limit;
pub mod services;
pub mod session;
pub mod settings;
pub mod split_manifest;
pub mod state;
pub mod storage;
pub mod totp;

pub use context::Ctx;
pub use db::Db;
pub use settings::Settings;
pub use state::AppState;
